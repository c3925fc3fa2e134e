#include "agent/sources/dhcp_client_reading.hpp"

#include <catch2/catch.hpp>

using namespace sixgate;
using namespace sixgate::agent;
using std::chrono::seconds;

namespace {
Ipv6Prefix pfx(const char* text) {
  return Ipv6Prefix::parse(text).value();
}
RosObject row(const char* interface, const char* status, const char* prefix, const char* disabled = "false") {
  RosObject r{{".id", "*1"}, {"interface", interface}, {"status", status}, {"disabled", disabled}};
  if (prefix != nullptr) r["prefix"] = prefix;
  return r;
}
const seconds assumed(3600);
}  // namespace

TEST_CASE("dhcp prefix text: the documented form", "[dhcp-client]") {
  auto r = parse_dhcp_client_prefixes("2001:db8:1200::/56, 6d16h56m8s");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].prefix == pfx("2001:db8:1200::/56"));
  CHECK((*r)[0].remaining_valid == seconds(6 * 86400 + 16 * 3600 + 56 * 60 + 8));
}

TEST_CASE("dhcp prefix text: tolerated variants", "[dhcp-client]") {
  SECTION("no lifetime") {
    auto r = parse_dhcp_client_prefixes("2001:db8:1200::/56");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    CHECK_FALSE((*r)[0].remaining_valid.has_value());
  }
  SECTION("several prefixes, each with a lifetime") {
    auto r = parse_dhcp_client_prefixes("2001:db8:1200::/56, 1d, 2001:db8:1300::/60, 2h");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 2);
    CHECK((*r)[1].prefix == pfx("2001:db8:1300::/60"));
    CHECK((*r)[1].remaining_valid == seconds(7200));
  }
  SECTION("several prefixes without lifetimes") {
    auto r = parse_dhcp_client_prefixes("2001:db8:1200::/56,2001:db8:1300::/56");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 2);
  }
  SECTION("prefix and lifetime separated by a space; clock-style duration") {
    auto r = parse_dhcp_client_prefixes("2001:db8:1200::/56 1d 00:00:10, 2001:db8:1300::/56 10");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].remaining_valid == seconds(86410));
    CHECK((*r)[1].remaining_valid == seconds(10));
  }
  SECTION("empty or blank text is no prefix") {
    auto r = parse_dhcp_client_prefixes("");
    REQUIRE(r.ok());
    CHECK(r->empty());
    auto blank = parse_dhcp_client_prefixes("  ");
    REQUIRE(blank.ok());
    CHECK(blank->empty());
  }
}

TEST_CASE("dhcp prefix text: errors name the problem", "[dhcp-client]") {
  CHECK_FALSE(parse_dhcp_client_prefixes("2001:db8:1200::/129, 1d").ok());
  CHECK_FALSE(parse_dhcp_client_prefixes("2001:db8:1200::/56, soon").ok());
  CHECK_FALSE(parse_dhcp_client_prefixes("1d").ok());
  CHECK_FALSE(parse_dhcp_client_prefixes("2001:db8:1200::/56, 1d, 2d").ok());
  CHECK_FALSE(parse_dhcp_client_prefixes("2001:db8:1200::/56,,").ok());
  auto r = parse_dhcp_client_prefixes("2001:db8:1200::/56, soon");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Catch::Contains("soon"));
}

TEST_CASE("dhcp-client rows: the bound entry of the interface gives the prefix", "[dhcp-client]") {
  std::vector<RosObject> rows{row("ether2", "bound", "2001:db8:9900::/56, 1d"),
                              row("ether1", "bound", "2001:db8:1200::/56, 6d16h56m8s")};
  auto r = read_dhcp_client(rows, "ether1", assumed, "dhcp-client:ether1");
  REQUIRE(r.ok());
  CHECK(r->state == "bound");
  REQUIRE(r->observations.size() == 1);
  const auto& o = r->observations[0];
  CHECK(o.prefix == pfx("2001:db8:1200::/56"));
  CHECK(o.valid_lifetime == seconds(579368));
  CHECK(o.preferred_lifetime == o.valid_lifetime);
  CHECK(o.source == "dhcp-client:ether1");
}

TEST_CASE("dhcp-client rows: renewing and rebinding still hold the lease", "[dhcp-client]") {
  for (const char* status : {"renewing", "rebinding"}) {
    auto r = read_dhcp_client({row("ether1", status, "2001:db8:1200::/56, 10m")}, "ether1", assumed, "s");
    REQUIRE(r.ok());
    CHECK(r->observations.size() == 1);
  }
}

TEST_CASE("dhcp-client rows: not bound, disabled or absent is an empty set", "[dhcp-client]") {
  for (const char* status : {"searching", "requesting", "stopped", "error", ""}) {
    auto r = read_dhcp_client({row("ether1", status, "2001:db8:1200::/56, 10m")}, "ether1", assumed, "s");
    REQUIRE(r.ok());
    CHECK(r->observations.empty());
  }
  auto disabled =
      read_dhcp_client({row("ether1", "bound", "2001:db8:1200::/56, 10m", "true")}, "ether1", assumed, "s");
  REQUIRE(disabled.ok());
  CHECK(disabled->observations.empty());
  CHECK(disabled->state == "disabled");
  auto absent = read_dhcp_client({row("ether2", "bound", "2001:db8:1200::/56, 10m")}, "ether1", assumed, "s");
  REQUIRE(absent.ok());
  CHECK(absent->observations.empty());
  CHECK(absent->state == "absent");
  auto bound_without_prefix = read_dhcp_client({row("ether1", "bound", nullptr)}, "ether1", assumed, "s");
  REQUIRE(bound_without_prefix.ok());
  CHECK(bound_without_prefix->observations.empty());
}

TEST_CASE("dhcp-client rows: lifetime falls back to expires-after, then the assumed lifetime",
          "[dhcp-client]") {
  auto with_expiry = row("ether1", "bound", "2001:db8:1200::/56");
  with_expiry["expires-after"] = "2h";
  auto r = read_dhcp_client({with_expiry}, "ether1", assumed, "s");
  REQUIRE(r.ok());
  REQUIRE(r->observations.size() == 1);
  CHECK(r->observations[0].valid_lifetime == seconds(7200));

  auto r2 = read_dhcp_client({row("ether1", "bound", "2001:db8:1200::/56")}, "ether1", assumed, "s");
  REQUIRE(r2.ok());
  REQUIRE(r2->observations.size() == 1);
  CHECK(r2->observations[0].valid_lifetime == assumed);
}

TEST_CASE("dhcp-client rows: several prefixes are sorted, duplicates keep the longest lifetime, zero is gone",
          "[dhcp-client]") {
  std::vector<RosObject> rows{row("ether1", "bound", "2001:db8:1300::/56, 1h, 2001:db8:1200::/56, 0s"),
                              row("ether1", "bound", "2001:db8:1300::/56, 2h")};
  auto r = read_dhcp_client(rows, "ether1", assumed, "s");
  REQUIRE(r.ok());
  REQUIRE(r->observations.size() == 1);
  CHECK(r->observations[0].prefix == pfx("2001:db8:1300::/56"));
  CHECK(r->observations[0].valid_lifetime == seconds(7200));
}

TEST_CASE("dhcp-client rows: an unreadable prefix on the bound entry is an error", "[dhcp-client]") {
  auto r = read_dhcp_client({row("ether1", "bound", "garbage, 1d")}, "ether1", assumed, "s");
  CHECK_FALSE(r.ok());
  auto r2 = read_dhcp_client({row("ether1", "searching", "garbage, 1d")}, "ether1", assumed, "s");
  CHECK(r2.ok());  // not bound: the prefix is not looked at
}
