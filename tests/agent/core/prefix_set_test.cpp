#include "agent/core/prefix_set.hpp"

#include <catch2/catch.hpp>

using namespace sixgate;
using namespace sixgate::agent;
using namespace std::chrono_literals;

namespace {

Ipv6Prefix P(const char* text) {
  return Ipv6Prefix::parse(text).value();
}

PrefixObservation obs(const char* prefix, std::chrono::seconds valid, std::chrono::seconds preferred,
                      const char* source = "test") {
  return PrefixObservation{P(prefix), valid, preferred, source};
}

constexpr auto infinite = std::chrono::seconds::max();

const SteadyClock::time_point t0 = SteadyClock::time_point(std::chrono::hours(1000));

std::vector<Ipv6Prefix> prefixes(std::initializer_list<const char*> texts) {
  std::vector<Ipv6Prefix> out;
  for (const char* t : texts) out.push_back(P(t));
  return out;
}

}  // namespace

TEST_CASE("prefix set: normalise sorts, de-duplicates and drops contained prefixes") {
  CHECK(normalise_prefixes(prefixes({"2001:db8:2::/56", "2001:db8:1::/56", "2001:db8:1::/56"})) ==
        prefixes({"2001:db8:1::/56", "2001:db8:2::/56"}));
  CHECK(normalise_prefixes(prefixes({"2001:db8:1:5::/64", "2001:db8:1::/56", "fd00::/8", "fd12::/48"})) ==
        prefixes({"2001:db8:1::/56", "fd00::/8"}));
  CHECK(normalise_prefixes({}).empty());
  CHECK(to_string(prefixes({"2001:db8:1::/56", "fd00::/8"})) == "2001:db8:1::/56, fd00::/8");
  CHECK(to_string({}) == "(none)");
}

TEST_CASE("prefix set: the first prefix and every later addition apply at once") {
  PrefixSet set(2000ms);
  set.report("dhcp", {obs("2001:db8:1::/56", 3600s, 1800s)}, t0);
  auto first = set.advance(t0);
  REQUIRE(first.size() == 1);
  CHECK(first[0].reason.find("first prefix") != std::string::npos);
  CHECK(set.effective() == prefixes({"2001:db8:1::/56"}));
  CHECK_FALSE(set.pending());

  // A second prefix appears: excluding it at once never marks home traffic, so it does not wait.
  set.report("dhcp", {obs("2001:db8:1::/56", 3600s, 1800s), obs("2001:db8:2::/56", 3600s, 1800s)}, t0 + 10s);
  REQUIRE(set.next_deadline().has_value());
  CHECK(*set.next_deadline() == t0 + 10s);
  auto changes = set.advance(t0 + 10s);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].reason == "new prefix (added without debounce)");
  CHECK(changes[0].before == prefixes({"2001:db8:1::/56"}));
  CHECK(changes[0].after == prefixes({"2001:db8:1::/56", "2001:db8:2::/56"}));
  CHECK(changes[0].added == prefixes({"2001:db8:2::/56"}));
  CHECK(changes[0].removed.empty());
  CHECK_FALSE(set.pending());
}

TEST_CASE("prefix set: a removal waits for the debounce while an addition in the same report does not") {
  PrefixSet set(2000ms);
  set.report("static", {obs("fd00::/8", infinite, infinite), obs("2001:db8:8::/48", infinite, infinite)}, t0);
  set.advance(t0);
  set.report("static", {obs("fd00::/8", infinite, infinite), obs("2001:db8:9::/48", infinite, infinite)},
             t0 + 10s);
  auto changes = set.advance(t0 + 10s);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].added == prefixes({"2001:db8:9::/48"}));
  CHECK(changes[0].removed.empty());
  CHECK(set.pending());  // 2001:db8:8::/48 leaves only after the debounce
  CHECK(*set.next_deadline() == t0 + 12s);
  CHECK(set.advance(t0 + 11s).empty());
  auto removal = set.advance(t0 + 12s);
  REQUIRE(removal.size() == 1);
  CHECK(removal[0].reason == "debounced removal");
  CHECK(removal[0].removed == prefixes({"2001:db8:8::/48"}));
  CHECK(removal[0].added.empty());
  CHECK_FALSE(set.pending());
}

TEST_CASE("prefix set: a further change restarts the debounce of a removal") {
  PrefixSet set(2000ms);
  set.report("s",
             {obs("2001:db8:1::/56", infinite, infinite), obs("2001:db8:2::/56", infinite, infinite),
              obs("2001:db8:3::/56", infinite, infinite)},
             t0);
  set.advance(t0);
  set.report("s", {obs("2001:db8:1::/56", infinite, infinite), obs("2001:db8:2::/56", infinite, infinite)},
             t0 + 1s);
  CHECK(set.advance(t0 + 1s).empty());
  set.report("s", {obs("2001:db8:1::/56", infinite, infinite)}, t0 + 2500ms);
  CHECK(set.advance(t0 + 3s).empty());  // 2 s after the first removal, but only 0.5 s after the last
  CHECK(*set.next_deadline() == t0 + 4500ms);
  auto changes = set.advance(t0 + 4500ms);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].removed == prefixes({"2001:db8:2::/56", "2001:db8:3::/56"}));
}

TEST_CASE("prefix set: a re-report with only new lifetimes is not a change") {
  PrefixSet set(2000ms);
  set.report("s", {obs("2001:db8:1::/56", 3600s, 1800s)}, t0);
  set.advance(t0);
  set.report("s", {obs("2001:db8:1::/56", 7200s, 3600s)}, t0 + 100s);
  CHECK_FALSE(set.pending());
  CHECK(set.advance(t0 + 200s).empty());
  auto snap = set.snapshot(t0 + 200s);
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].valid_remaining == std::optional<std::chrono::seconds>(7100s));
  CHECK(snap[0].preferred_remaining == std::optional<std::chrono::seconds>(3500s));
  CHECK(snap[0].sources == std::vector<std::string>{"s"});
  CHECK(snap[0].effective);
  CHECK_FALSE(snap[0].retained);
}

TEST_CASE("prefix set: a vanished prefix stays until its valid lifetime ends, then leaves at once") {
  PrefixSet set(2000ms);
  set.report("dhcp", {obs("2001:db8:1::/56", 600s, 300s)}, t0);
  set.advance(t0);
  // Renumbering: the source now only reports the new prefix.
  set.report("dhcp", {obs("2001:db8:2::/56", 3600s, 1800s)}, t0 + 100s);
  auto renumbered = set.advance(t0 + 100s);
  REQUIRE(renumbered.size() == 1);
  CHECK(renumbered[0].added == prefixes({"2001:db8:2::/56"}));
  CHECK(renumbered[0].removed.empty());
  CHECK(set.effective() == prefixes({"2001:db8:1::/56", "2001:db8:2::/56"}));
  CHECK_FALSE(set.pending());  // the old prefix is still a candidate: retained, not leaving

  auto snap = set.snapshot(t0 + 200s);
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].prefix == P("2001:db8:1::/56"));
  CHECK(snap[0].retained);
  CHECK(snap[0].sources.empty());
  CHECK(snap[0].valid_remaining == std::optional<std::chrono::seconds>(400s));

  CHECK(set.next_deadline() == std::optional<SteadyClock::time_point>(t0 + 600s));
  CHECK(set.advance(t0 + 599s).empty());
  auto expiry = set.advance(t0 + 600s);
  REQUIRE(expiry.size() == 1);
  CHECK(expiry[0].reason == "valid lifetime ended");
  CHECK(expiry[0].removed == prefixes({"2001:db8:1::/56"}));
  CHECK(set.effective() == prefixes({"2001:db8:2::/56"}));
}

TEST_CASE("prefix set: a prefix a source no longer refreshes expires with its lifetime") {
  PrefixSet set(0ms);
  set.report("dhcp", {obs("2001:db8:1::/56", 60s, 30s)}, t0);
  set.advance(t0);
  CHECK(set.effective(t0 + 59s) == prefixes({"2001:db8:1::/56"}));
  CHECK(set.effective(t0 + 61s).empty());
}

TEST_CASE("prefix set: valid lifetime 0 withdraws at once, an infinite prefix that vanishes is debounced") {
  PrefixSet set(2000ms);
  set.report("nl", {obs("2001:db8:1::/56", 600s, 300s)}, t0);
  set.report("static", {obs("fd00::/8", infinite, infinite, "static")}, t0);
  set.advance(t0);
  CHECK(set.effective() == prefixes({"2001:db8:1::/56", "fd00::/8"}));

  set.report("nl", {obs("2001:db8:1::/56", 0s, 0s)}, t0 + 10s);
  auto withdrawn = set.advance(t0 + 10s);
  REQUIRE(withdrawn.size() == 1);
  CHECK(withdrawn[0].removed == prefixes({"2001:db8:1::/56"}));
  CHECK(set.effective() == prefixes({"fd00::/8"}));

  set.report("static", {}, t0 + 20s);
  CHECK(set.advance(t0 + 20s).empty());
  CHECK(set.effective() == prefixes({"fd00::/8"}));
  auto gone = set.advance(t0 + 22s);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].removed == prefixes({"fd00::/8"}));
  CHECK(set.effective().empty());
  CHECK_FALSE(set.next_deadline().has_value());
}

TEST_CASE("prefix set: several sources -- a prefix lives while any of them reports it") {
  PrefixSet set(1000ms);
  set.report("netlink:eth0", {obs("2001:db8:1::/56", 600s, 300s, "netlink:eth0")}, t0);
  set.report("dhcp-client:ether1", {obs("2001:db8:1::/56", 3600s, 1800s, "dhcp-client:ether1")}, t0);
  set.advance(t0);
  auto snap = set.snapshot(t0);
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].sources.size() == 2);
  CHECK(snap[0].valid_remaining == std::optional<std::chrono::seconds>(3600s));  // the longest wins

  // netlink loses it: dhcp still has it, nothing changes and nothing is retained.
  set.report("netlink:eth0", {}, t0 + 5s);
  CHECK_FALSE(set.pending());
  snap = set.snapshot(t0 + 5s);
  REQUIRE(snap.size() == 1);
  CHECK(snap[0].sources == std::vector<std::string>{"dhcp-client:ether1"});
  CHECK_FALSE(snap[0].retained);
  // Past netlink's lifetime the prefix stays: dhcp's lifetime is longer.
  CHECK(set.advance(t0 + 700s).empty());
  CHECK(set.effective() == prefixes({"2001:db8:1::/56"}));
}

TEST_CASE("prefix set: contained prefixes collapse in effective()") {
  PrefixSet set(0ms);
  set.report("nl", {obs("2001:db8:1:5::/64", 600s, 300s)}, t0);
  set.report("dhcp", {obs("2001:db8:1::/56", 600s, 300s)}, t0);
  set.advance(t0);
  CHECK(set.effective() == prefixes({"2001:db8:1::/56"}));
}

TEST_CASE("prefix set: primary is the most recent prefix a source still reports") {
  PrefixSet set(0ms);
  set.report("dhcp", {obs("2001:db8:1::/56", 600s, 300s)}, t0);
  set.advance(t0);
  CHECK(set.primary() == std::optional<Ipv6Prefix>(P("2001:db8:1::/56")));
  set.report("dhcp", {obs("2001:db8:2::/56", 600s, 300s)}, t0 + 10s);
  set.advance(t0 + 10s);
  CHECK(set.effective().size() == 2);
  CHECK(set.primary() == std::optional<Ipv6Prefix>(P("2001:db8:2::/56")));

  PrefixSet empty(0ms);
  CHECK_FALSE(empty.primary().has_value());
}

TEST_CASE("prefix set: a source reporting nothing at start leaves the set empty") {
  PrefixSet set(2000ms);
  set.report("nl", {}, t0);
  CHECK(set.advance(t0).empty());
  CHECK(set.effective().empty());
  CHECK_FALSE(set.pending());
  CHECK_FALSE(set.next_deadline().has_value());
}

TEST_CASE("prefix set: flush applies a debounced removal at once") {
  PrefixSet set(2000ms);
  set.report("static", {obs("fd00::/8", infinite, infinite, "static")}, t0);
  set.report("dhcp", {obs("2001:db8:1::/56", infinite, infinite)}, t0);
  set.advance(t0);
  set.report("dhcp", {}, t0 + 10ms);
  CHECK(set.advance(t0 + 10ms).empty());
  auto change = set.flush(t0 + 10ms, "startup");
  REQUIRE(change.has_value());
  CHECK(change->reason == "startup");
  CHECK(change->removed == prefixes({"2001:db8:1::/56"}));
  CHECK_FALSE(set.pending());
  CHECK_FALSE(set.flush(t0 + 20ms, "again").has_value());
}

TEST_CASE("prefix set: remembered prefixes survive a restart until their lifetime ends") {
  PrefixSet before(0ms);
  before.report("dhcp", {obs("2001:db8:1::/56", 600s, 300s)}, t0);
  before.report("static", {obs("fd00::/8", infinite, infinite, "static")}, t0);
  before.advance(t0);
  auto memory = before.remember(t0 + 100s);
  REQUIRE(memory.size() == 1);  // infinite ones come back from their source anyway
  CHECK(memory[0].prefix == P("2001:db8:1::/56"));
  CHECK(memory[0].valid_lifetime == 500s);

  // After the restart the ISP has renumbered: the remembered prefix is kept until its lifetime ends.
  PrefixSet after(2000ms);
  const auto t1 = t0 + 1000s;  // a different steady clock epoch does not matter: lifetimes are relative
  after.restore(memory, t1);
  after.report("dhcp", {obs("2001:db8:2::/56", 600s, 300s)}, t1);
  after.flush(t1, "startup");
  CHECK(after.effective() == prefixes({"2001:db8:1::/56", "2001:db8:2::/56"}));
  auto snap = after.snapshot(t1);
  REQUIRE(snap.size() == 2);
  CHECK(snap[0].retained);
  auto gone = after.advance(t1 + 500s);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].removed == prefixes({"2001:db8:1::/56"}));

  // A remembered prefix that a source reports again is simply current.
  PrefixSet again(0ms);
  again.restore(memory, t1);
  again.report("dhcp", {obs("2001:db8:1::/56", 3600s, 1800s)}, t1);
  again.advance(t1);
  CHECK_FALSE(again.snapshot(t1)[0].retained);
  CHECK(again.next_deadline() == std::optional<SteadyClock::time_point>(t1 + 3600s));
}
