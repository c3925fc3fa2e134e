#pragma once
// No open proxy: which backend addresses may be connected to. Checked on the exact address connected to.
#include <optional>
#include <string_view>
#include <vector>

#include "common/ip.hpp"

namespace sixgate::proxy {

enum class Refusal {
  none,
  outside_backend_cidr,
  loopback,
  link_local,
  multicast,
  unspecified,
  v4_mapped,
  nat46_prefix,
  reserved,
};

class BackendPolicy {
 public:
  BackendPolicy(std::vector<Ipv6Prefix> allowed6, std::vector<Ipv4Prefix> allowed4,
                std::optional<Ipv6Prefix> nat46_prefix);

  // Always refused, even inside an allowed prefix (first match wins, in this order): :: (unspecified), ::1
  // (loopback), ::ffff:0:0/96 (v4_mapped), fe80::/10 (link_local), ff00::/8 (multicast), the NAT46 prefix
  // (nat46_prefix), and as "reserved": ::/96 (IPv4-compatible), 64:ff9b::/96 and 64:ff9b:1::/48 (NAT64),
  // 100::/64 (discard), 2001::/32 (Teredo), 2002::/16 (6to4), fec0::/10 (site-local); the last four because
  // they embed or reach IPv4 hosts. Then the address must lie inside one of allowed6.
  Refusal check(const Ipv6Address& a) const;
  // Always refused: 0/8 (unspecified), 127/8 (loopback), 169.254/16 (link_local), 224/4 (multicast), 240/4
  // including 255.255.255.255 (reserved). Then the address must lie inside one of allowed4.
  Refusal check(const Ipv4Address& a) const;

  const std::vector<Ipv6Prefix>& allowed6() const { return allowed6_; }
  const std::vector<Ipv4Prefix>& allowed4() const { return allowed4_; }
  const std::optional<Ipv6Prefix>& nat46_prefix() const { return nat46_prefix_; }

 private:
  std::vector<Ipv6Prefix> allowed6_;
  std::vector<Ipv4Prefix> allowed4_;
  std::optional<Ipv6Prefix> nat46_prefix_;
};

std::string_view to_string(Refusal r);  // "none", "outside_backend_cidr", "loopback", ...

}  // namespace sixgate::proxy
