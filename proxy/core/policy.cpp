#include "proxy/core/policy.hpp"

#include <utility>

namespace sixgate::proxy {
namespace {

Ipv6Prefix v6(std::string_view text) {
  return Ipv6Prefix::parse(text).value();
}
Ipv4Prefix v4(std::string_view text) {
  return Ipv4Prefix::parse(text).value();
}

// Ranges that embed or reach IPv4 hosts, or are not unicast destinations at all.
const std::vector<Ipv6Prefix>& reserved6() {
  static const std::vector<Ipv6Prefix> prefixes{v6("::/96"),    v6("64:ff9b::/96"), v6("64:ff9b:1::/48"),
                                                v6("100::/64"), v6("2001::/32"),    v6("2002::/16"),
                                                v6("fec0::/10")};
  return prefixes;
}

}  // namespace

BackendPolicy::BackendPolicy(std::vector<Ipv6Prefix> allowed6, std::vector<Ipv4Prefix> allowed4,
                             std::optional<Ipv6Prefix> nat46_prefix)
    : allowed6_(std::move(allowed6)),
      allowed4_(std::move(allowed4)),
      nat46_prefix_(std::move(nat46_prefix)) {}

Refusal BackendPolicy::check(const Ipv6Address& a) const {
  if (a.is_unspecified()) return Refusal::unspecified;
  if (a.is_loopback()) return Refusal::loopback;
  if (a.is_v4_mapped()) return Refusal::v4_mapped;
  if (a.is_link_local()) return Refusal::link_local;
  if (a.is_multicast()) return Refusal::multicast;
  if (nat46_prefix_ && nat46_prefix_->contains(a)) return Refusal::nat46_prefix;
  for (const auto& p : reserved6()) {
    if (p.contains(a)) return Refusal::reserved;
  }
  for (const auto& p : allowed6_) {
    if (p.contains(a)) return Refusal::none;
  }
  return Refusal::outside_backend_cidr;
}

Refusal BackendPolicy::check(const Ipv4Address& a) const {
  static const Ipv4Prefix this_network = v4("0.0.0.0/8"), loopback = v4("127.0.0.0/8"),
                          link_local = v4("169.254.0.0/16"), multicast = v4("224.0.0.0/4"),
                          reserved = v4("240.0.0.0/4");
  if (this_network.contains(a)) return Refusal::unspecified;
  if (loopback.contains(a)) return Refusal::loopback;
  if (link_local.contains(a)) return Refusal::link_local;
  if (multicast.contains(a)) return Refusal::multicast;
  if (reserved.contains(a)) return Refusal::reserved;  // includes 255.255.255.255
  for (const auto& p : allowed4_) {
    if (p.contains(a)) return Refusal::none;
  }
  return Refusal::outside_backend_cidr;
}

std::string_view to_string(Refusal r) {
  switch (r) {
    case Refusal::none:
      return "none";
    case Refusal::outside_backend_cidr:
      return "outside_backend_cidr";
    case Refusal::loopback:
      return "loopback";
    case Refusal::link_local:
      return "link_local";
    case Refusal::multicast:
      return "multicast";
    case Refusal::unspecified:
      return "unspecified";
    case Refusal::v4_mapped:
      return "v4_mapped";
    case Refusal::nat46_prefix:
      return "nat46_prefix";
    case Refusal::reserved:
      return "reserved";
  }
  return "?";
}

}  // namespace sixgate::proxy
