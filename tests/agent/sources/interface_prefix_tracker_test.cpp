#include "agent/sources/interface_prefix_tracker.hpp"

#include <catch2/catch.hpp>

using namespace sixgate;
using namespace sixgate::agent;
using std::chrono::seconds;
using Clock = InterfacePrefixTracker::Clock;

namespace {

Ipv6Address addr(const char* text) {
  return Ipv6Address::parse(text).value();
}
Ipv6Prefix pfx(const char* text) {
  return Ipv6Prefix::parse(text).value();
}

AddressEvent address(const char* a, unsigned len, std::uint32_t valid, std::uint32_t preferred,
                     int ifindex = 7) {
  AddressEvent e;
  e.ifindex = ifindex;
  e.address = addr(a);
  e.prefix_length = len;
  e.valid_seconds = valid;
  e.preferred_seconds = preferred;
  return e;
}

AddressEvent removal(const char* a, int ifindex = 7) {
  AddressEvent e = address(a, 64, 0, 0, ifindex);
  e.removed = true;
  return e;
}

PrefixInfoEvent ra(const char* p, std::uint32_t valid, std::uint32_t preferred, int ifindex = 7) {
  return PrefixInfoEvent{ifindex, pfx(p), valid, preferred};
}

InterfacePrefixTracker make(unsigned delegated = 56, bool ula = false) {
  return InterfacePrefixTracker({7, delegated, ula, "netlink:test0"});
}

const Clock::time_point t0 = Clock::time_point() + std::chrono::hours(1);

}  // namespace

TEST_CASE("tracker maps a SLAAC /64 address to the configured delegated length", "[netlink]") {
  auto t = make(56);
  CHECK(t.apply(address("2001:db8:1200:1:a:b:c:d", 64, 3600, 1800), t0));
  auto obs = t.observations(t0);
  REQUIRE(obs.size() == 1);
  CHECK(obs[0].prefix == pfx("2001:db8:1200::/56"));
  CHECK(obs[0].valid_lifetime == seconds(3600));
  CHECK(obs[0].preferred_lifetime == seconds(1800));
  CHECK(obs[0].source == "netlink:test0");
}

TEST_CASE("tracker with delegated length 64 reports the /64 itself", "[netlink]") {
  auto t = make(64);
  t.apply(address("2001:db8:1200:2::5", 64, 100, 50), t0);
  auto obs = t.observations(t0);
  REQUIRE(obs.size() == 1);
  CHECK(obs[0].prefix == pfx("2001:db8:1200:2::/64"));
}

TEST_CASE("tracker ignores link-local, multicast, ULA and other interfaces", "[netlink]") {
  auto t = make();
  CHECK_FALSE(t.apply(address("fe80::1", 64, kInfiniteLifetime, kInfiniteLifetime), t0));
  CHECK_FALSE(t.apply(address("fd00:1::1", 64, kInfiniteLifetime, kInfiniteLifetime), t0));
  CHECK_FALSE(t.apply(address("::1", 128, kInfiniteLifetime, kInfiniteLifetime), t0));
  CHECK_FALSE(t.apply(address("2001:db8:1200:1::1", 64, 100, 100, /*ifindex=*/8), t0));
  CHECK_FALSE(t.apply(ra("fd00:1::/64", 100, 100), t0));
  CHECK(t.observations(t0).empty());
}

TEST_CASE("tracker includes ULA when configured", "[netlink]") {
  auto t = make(48, /*ula=*/true);
  CHECK(t.apply(address("fd12:3456:789a:1::1", 64, kInfiniteLifetime, kInfiniteLifetime), t0));
  auto obs = t.observations(t0);
  REQUIRE(obs.size() == 1);
  CHECK(obs[0].prefix == pfx("fd12:3456:789a::/48"));
  CHECK(obs[0].valid_lifetime == seconds::max());
  CHECK(obs[0].preferred_lifetime == seconds::max());
}

TEST_CASE("tracker merges addresses of one delegated prefix, keeping the longest lifetimes", "[netlink]") {
  auto t = make(56);
  t.apply(address("2001:db8:1200:1::1", 64, 3600, 0), t0);      // deprecated
  t.apply(address("2001:db8:1200:1::abcd", 64, 600, 300), t0);  // temporary
  t.apply(address("2001:db8:1200:7::1", 64, 100, 100), t0);
  auto obs = t.observations(t0);
  REQUIRE(obs.size() == 1);
  CHECK(obs[0].valid_lifetime == seconds(3600));
  CHECK(obs[0].preferred_lifetime == seconds(300));
}

TEST_CASE("tracker keeps separate delegated prefixes apart, sorted", "[netlink]") {
  auto t = make(56);
  t.apply(address("2001:db8:1300:1::1", 64, 100, 100), t0);
  t.apply(address("2001:db8:1200:1::1", 64, 100, 100), t0);
  auto obs = t.observations(t0);
  REQUIRE(obs.size() == 2);
  CHECK(obs[0].prefix == pfx("2001:db8:1200::/56"));
  CHECK(obs[1].prefix == pfx("2001:db8:1300::/56"));
}

TEST_CASE("tracker: removal and valid lifetime 0 drop the entry", "[netlink]") {
  auto t = make();
  t.apply(address("2001:db8:1200:1::1", 64, 100, 100), t0);
  CHECK(t.apply(removal("2001:db8:1200:1::1"), t0));
  CHECK(t.observations(t0).empty());
  CHECK_FALSE(t.apply(removal("2001:db8:1200:1::1"), t0));  // already gone

  t.apply(ra("2001:db8:1200:1::/64", 100, 50), t0);
  CHECK(t.apply(ra("2001:db8:1200:1::/64", 0, 0), t0));
  CHECK(t.observations(t0).empty());
}

TEST_CASE("tracker: lifetimes count down and entries expire at their valid deadline", "[netlink]") {
  auto t = make(64);
  t.apply(ra("2001:db8:1200:1::/64", 30, 10), t0);
  REQUIRE(t.next_expiry() == t0 + seconds(30));
  auto later = t.observations(t0 + seconds(12));
  REQUIRE(later.size() == 1);
  CHECK(later[0].valid_lifetime == seconds(18));
  CHECK(later[0].preferred_lifetime == seconds(0));  // deprecated now
  CHECK_FALSE(t.expire(t0 + seconds(29)));
  CHECK(t.observations(t0 + seconds(30)).empty());  // gone even before expire() runs
  CHECK(t.expire(t0 + seconds(30)));
  CHECK_FALSE(t.next_expiry().has_value());
}

TEST_CASE("tracker: a refresh with the same deadline is no change, a new deadline is", "[netlink]") {
  auto t = make(64);
  CHECK(t.apply(ra("2001:db8:1200:1::/64", 30, 10), t0));
  CHECK_FALSE(t.apply(ra("2001:db8:1200:1::/64", 25, 5), t0 + seconds(5)));
  CHECK(t.apply(ra("2001:db8:1200:1::/64", 30, 10), t0 + seconds(5)));
}

TEST_CASE("tracker: preferred lifetime is capped by valid lifetime", "[netlink]") {
  auto t = make(64);
  t.apply(address("2001:db8:1200:1::1", 64, 10, 100), t0);
  auto obs = t.observations(t0);
  REQUIRE(obs.size() == 1);
  CHECK(obs[0].preferred_lifetime == seconds(10));
}

TEST_CASE("tracker: renumbering from one RA prefix to another", "[netlink]") {
  auto t = make(64);
  t.apply(ra("2001:db8:1200:1::/64", 1800, 900), t0);
  t.apply(ra("2001:db8:1200:2::/64", 1800, 900), t0 + seconds(10));
  t.apply(ra("2001:db8:1200:1::/64", 60, 0), t0 + seconds(10));  // old prefix deprecated, 60 s to live
  auto obs = t.observations(t0 + seconds(10));
  REQUIRE(obs.size() == 2);
  CHECK(obs[0].prefix == pfx("2001:db8:1200:1::/64"));
  CHECK(obs[0].valid_lifetime == seconds(60));
  CHECK(obs[0].preferred_lifetime == seconds(0));
  CHECK(obs[1].prefix == pfx("2001:db8:1200:2::/64"));
  CHECK(obs[1].preferred_lifetime == seconds(900));
  t.expire(t0 + seconds(70));
  obs = t.observations(t0 + seconds(70));
  REQUIRE(obs.size() == 1);
  CHECK(obs[0].prefix == pfx("2001:db8:1200:2::/64"));
}

TEST_CASE("tracker: an RA prefix wider than the delegation stays wide -- a /128 maps to the delegation",
          "[netlink]") {
  auto t = make(56);
  t.apply(ra("2001:db8:1200::/48", 100, 100), t0);
  t.apply(address("2001:db8:1300:0:1::5", 128, 100, 100), t0);
  auto obs = t.observations(t0);
  REQUIRE(obs.size() == 2);
  CHECK(obs[0].prefix == pfx("2001:db8:1200::/48"));
  CHECK(obs[1].prefix == pfx("2001:db8:1300::/56"));
}

TEST_CASE("tracker: clear forgets everything", "[netlink]") {
  auto t = make();
  t.apply(address("2001:db8:1200:1::1", 64, 100, 100), t0);
  t.apply(ra("2001:db8:1200:1::/64", 100, 100), t0);
  t.clear();
  CHECK(t.observations(t0).empty());
  CHECK_FALSE(t.next_expiry().has_value());
}
