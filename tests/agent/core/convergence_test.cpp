#include "agent/core/convergence.hpp"

#include <catch2/catch.hpp>

using namespace sixgate;
using namespace sixgate::agent;

namespace {

DesiredState want(const char* home) {
  AgentConfig c = parse_agent_config("[site]\nrouted_prefix = \"2001:db8:1:2:1::/80\"\n", "t.toml").value();
  Ipv6Prefix p = Ipv6Prefix::parse(home).value();
  return desired_state(c, {{p}, p});
}

Plan set_passthrough() {
  Operation op;
  op.menu = std::string(menu::mangle);
  op.verb = Verb::set;
  op.id = "*5";
  op.fields = {{"passthrough", "yes"}};
  op.label = "mangle rule";
  Plan p;
  p.operations.push_back(op);
  return p;
}

}  // namespace

TEST_CASE("convergence: writes needed in max_rounds rounds in a row are an error naming the operation") {
  ConvergenceWatch watch(3);
  const DesiredState d = want("2001:db8:1200::/56");
  CHECK_FALSE(watch.after_round(d, set_passthrough()));
  CHECK_FALSE(watch.after_round(d, set_passthrough()));
  auto stuck = watch.after_round(d, set_passthrough());
  REQUIRE(stuck);
  CHECK(stuck->find("still differs after 3 rounds") != std::string::npos);
  CHECK(stuck->find("set /ipv6/firewall/mangle *5 (mangle rule): passthrough=yes") != std::string::npos);
  CHECK(watch.after_round(d, set_passthrough()));           // stays an error while it lasts
  CHECK(watch.after_round(d, set_passthrough()) == stuck);  // with the same text, so it is reported once
}

TEST_CASE("convergence: a round in sync, a new desired state or a different plan starts the count again") {
  ConvergenceWatch watch(2);
  const DesiredState first = want("2001:db8:1200::/56"), second = want("2001:db8:3400::/56");
  CHECK_FALSE(watch.after_round(first, set_passthrough()));
  CHECK_FALSE(watch.after_round(first, Plan{}));
  CHECK_FALSE(watch.after_round(first, set_passthrough()));
  CHECK(watch.repeated_rounds() == 1);
  // A prefix change: writes are expected again, they say nothing about the router.
  CHECK_FALSE(watch.after_round(second, set_passthrough()));
  CHECK(watch.repeated_rounds() == 1);
  // Other writes (a hand edit repaired, then a reboot's losses restored) are repairs that stuck.
  Plan other = set_passthrough();
  other.operations[0].fields = {{"disabled", "no"}};
  CHECK_FALSE(watch.after_round(second, other));
  CHECK(watch.repeated_rounds() == 1);
  CHECK(watch.after_round(second, other));
}
