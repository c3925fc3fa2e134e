#include "proxy/core/policy.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace sixgate;
using namespace sixgate::proxy;

namespace {
Ipv6Prefix p6(std::string_view s) {
  return Ipv6Prefix::parse(s).value();
}
Ipv4Prefix p4(std::string_view s) {
  return Ipv4Prefix::parse(s).value();
}
}  // namespace

TEST_CASE("BackendPolicy: IPv6 backends must be inside -backend-cidr", "[policy]") {
  const BackendPolicy policy({p6("2001:db8:100::/48"), p6("fd00:1::/64")}, {}, p6("64:ff9b:1::/96"));
  const std::vector<std::pair<std::string, Refusal>> cases{
      {"2001:db8:100::10", Refusal::none},
      {"2001:db8:100:ffff:ffff:ffff:ffff:ffff", Refusal::none},
      {"fd00:1::5", Refusal::none},
      {"2001:db8:101::10", Refusal::outside_backend_cidr},
      {"2001:db8::1", Refusal::outside_backend_cidr},
      {"fd00:2::5", Refusal::outside_backend_cidr},
      {"::", Refusal::unspecified},
      {"::1", Refusal::loopback},
      {"fe80::1", Refusal::link_local},
      {"febf::1", Refusal::link_local},
      {"ff02::1", Refusal::multicast},
      {"::ffff:192.0.2.1", Refusal::v4_mapped},
      {"64:ff9b:1::c000:201", Refusal::nat46_prefix},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK(to_string(policy.check(Ipv6Address::parse(text).value())) == to_string(expected));
  }
}

TEST_CASE("BackendPolicy: the always-deny list wins over an allowed ::/0", "[policy]") {
  const BackendPolicy policy({p6("::/0")}, {p4("0.0.0.0/0")}, p6("64:ff9b:1::/96"));
  const std::vector<std::pair<std::string, Refusal>> cases6{
      {"2001:db8::1", Refusal::none},
      {"fd00::1", Refusal::none},
      {"::", Refusal::unspecified},
      {"::1", Refusal::loopback},
      {"::ffff:127.0.0.1", Refusal::v4_mapped},
      {"fe80::1", Refusal::link_local},
      {"ff05::2", Refusal::multicast},
      {"64:ff9b:1::7f00:1", Refusal::nat46_prefix},
      {"::7f00:1", Refusal::reserved},
      {"64:ff9b::c000:201", Refusal::reserved},
      {"64:ff9b:1:2::1", Refusal::reserved},
      {"100::1", Refusal::reserved},
      {"2001:0:4136:e378::1", Refusal::reserved},
      {"2002:c000:201::1", Refusal::reserved},
      {"fec0::1", Refusal::reserved},
  };
  for (const auto& [text, expected] : cases6) {
    INFO(text);
    CHECK(to_string(policy.check(Ipv6Address::parse(text).value())) == to_string(expected));
  }
  const std::vector<std::pair<std::string, Refusal>> cases4{
      {"192.0.2.1", Refusal::none},           {"0.0.0.0", Refusal::unspecified},
      {"0.1.2.3", Refusal::unspecified},      {"127.0.0.1", Refusal::loopback},
      {"127.255.255.254", Refusal::loopback}, {"169.254.169.254", Refusal::link_local},
      {"224.0.0.1", Refusal::multicast},      {"239.255.255.250", Refusal::multicast},
      {"240.0.0.1", Refusal::reserved},       {"255.255.255.255", Refusal::reserved},
  };
  for (const auto& [text, expected] : cases4) {
    INFO(text);
    CHECK(to_string(policy.check(Ipv4Address::parse(text).value())) == to_string(expected));
  }
}

TEST_CASE("BackendPolicy: IPv4 backends must be inside an allowed IPv4 prefix", "[policy]") {
  const BackendPolicy policy({}, {p4("198.51.100.0/24")}, std::nullopt);
  CHECK(policy.check(Ipv4Address::parse("198.51.100.7").value()) == Refusal::none);
  CHECK(policy.check(Ipv4Address::parse("198.51.101.7").value()) == Refusal::outside_backend_cidr);
  CHECK(policy.check(Ipv4Address::parse("127.0.0.1").value()) == Refusal::loopback);
  CHECK(policy.check(Ipv6Address::parse("2001:db8::1").value()) == Refusal::outside_backend_cidr);

  const BackendPolicy nothing({}, {}, std::nullopt);
  CHECK(nothing.check(Ipv4Address::parse("198.51.100.7").value()) == Refusal::outside_backend_cidr);
  CHECK(nothing.check(Ipv6Address::parse("2001:db8::1").value()) == Refusal::outside_backend_cidr);
}

TEST_CASE("Refusal names are stable", "[policy]") {
  CHECK(to_string(Refusal::none) == "none");
  CHECK(to_string(Refusal::outside_backend_cidr) == "outside_backend_cidr");
  CHECK(to_string(Refusal::loopback) == "loopback");
  CHECK(to_string(Refusal::link_local) == "link_local");
  CHECK(to_string(Refusal::multicast) == "multicast");
  CHECK(to_string(Refusal::unspecified) == "unspecified");
  CHECK(to_string(Refusal::v4_mapped) == "v4_mapped");
  CHECK(to_string(Refusal::nat46_prefix) == "nat46_prefix");
  CHECK(to_string(Refusal::reserved) == "reserved");
}
