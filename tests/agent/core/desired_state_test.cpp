#include "agent/core/desired_state.hpp"

#include <catch2/catch.hpp>

using namespace sixgate;
using namespace sixgate::agent;

namespace {

AgentConfig config(const std::string& policy = "") {
  std::string text = "[agent]\nname = \"cr1\"\n[site]\nrouted_prefix = \"2001:db8:1:2:1::/80\"\n";
  if (!policy.empty()) text += "[policy]\n" + policy;
  return parse_agent_config(text, "t.toml").value();
}

Ipv6Prefix P(const char* text) {
  return Ipv6Prefix::parse(text).value();
}

const DesiredObject* find(const DesiredState& d, Role role) {
  for (const auto& o : d.objects)
    if (o.role == role) return &o;
  return nullptr;
}

}  // namespace

TEST_CASE("desired state: tags name the agent, the site and the role") {
  auto c = config();
  CHECK(owner_tag_prefix(c) == "sixgate:cr1:home:");
  CHECK(owner_tag(c, Role::table) == "sixgate:cr1:home:table");
  CHECK(owner_tag(c, Role::home_prefix) == "sixgate:cr1:home:home-prefix");
}

TEST_CASE("desired state: address-list mode, in creation order") {
  auto d = desired_state(config(), {{P("2001:db8:1200::/56"), P("fd00::/8")}, std::nullopt});
  REQUIRE(d.objects.size() == 5);
  CHECK(d.objects[0].role == Role::table);
  CHECK(d.objects[1].role == Role::route);
  CHECK(d.objects[2].role == Role::home_prefix);
  CHECK(d.objects[3].role == Role::home_prefix);
  CHECK(d.objects[4].role == Role::rule);
  CHECK_FALSE(d.hold_policy);

  CHECK(d.objects[0].menu == "/routing/table");
  CHECK(d.objects[0].fields ==
        RosObject{
            {"name", "extip1_rt"}, {"fib", ""}, {"disabled", "no"}, {"comment", "sixgate:cr1:home:table"}});
  CHECK(d.objects[1].fields == RosObject{{"dst-address", "::/0"},
                                         {"gateway", "fe80::1%extip1_wg"},
                                         {"routing-table", "extip1_rt"},
                                         {"distance", "20"},
                                         {"disabled", "no"},
                                         {"comment", "sixgate:cr1:home:route"}});
  CHECK(d.objects[2].fields == RosObject{{"list", "sixgate-home"},
                                         {"address", "2001:db8:1200::/56"},
                                         {"disabled", "no"},
                                         {"comment", "sixgate:cr1:home:home-prefix"}});
  CHECK(d.objects[4].fields == RosObject{{"chain", "prerouting"},
                                         {"action", "mark-routing"},
                                         {"new-routing-mark", "extip1_rt"},
                                         {"passthrough", "no"},
                                         {"src-address", "2001:db8:1:2:1::/80"},
                                         {"dst-address-list", "!sixgate-home"},
                                         {"disabled", "no"},
                                         {"comment", "sixgate:cr1:home:rule"}});
  CHECK(d.warnings.empty());
}

TEST_CASE("desired state: address-list timeout is written on entries") {
  auto d =
      desired_state(config("address_list_timeout = \"1d\"\n"), {{P("2001:db8:1200::/56")}, std::nullopt});
  CHECK(find(d, Role::home_prefix)->fields.at("timeout") == "1d");
}

TEST_CASE("desired state: dst-address mode uses the primary prefix and warns about the others") {
  auto c = config("mode = \"dst-address\"\npassthrough = true\n");
  auto one = desired_state(c, {{P("2001:db8:1200::/56")}, P("2001:db8:1200::/56")});
  CHECK(find(one, Role::home_prefix) == nullptr);
  CHECK(find(one, Role::rule)->fields.at("dst-address") == "!2001:db8:1200::/56");
  CHECK(find(one, Role::rule)->fields.count("dst-address-list") == 0);
  CHECK(find(one, Role::rule)->fields.at("passthrough") == "yes");
  CHECK(one.warnings.empty());

  auto two = desired_state(c, {{P("2001:db8:1200::/56"), P("2001:db8:3400::/56")}, P("2001:db8:3400::/56")});
  CHECK(find(two, Role::rule)->fields.at("dst-address") == "!2001:db8:3400::/56");
  REQUIRE(two.warnings.size() == 1);
  CHECK(two.warnings[0].find("2001:db8:1200::/56") != std::string::npos);

  // Without a primary: the widest.
  auto wide = desired_state(c, {{P("2001:db8:1200::/56"), P("2001:db8:3400::/48")}, std::nullopt});
  CHECK(find(wide, Role::rule)->fields.at("dst-address") == "!2001:db8:3400::/48");
}

TEST_CASE("desired state: no home prefix holds the rule and the list") {
  auto d = desired_state(config(), {{}, std::nullopt});
  CHECK(d.hold_policy);
  CHECK(find(d, Role::table) != nullptr);
  CHECK(find(d, Role::route) != nullptr);
  CHECK(find(d, Role::rule) == nullptr);
  CHECK(find(d, Role::home_prefix) == nullptr);
  CHECK_FALSE(d.warnings.empty());
}
