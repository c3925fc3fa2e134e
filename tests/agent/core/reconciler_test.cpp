#include "agent/core/reconciler.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

using namespace sixgate;
using namespace sixgate::agent;

namespace {

Ipv6Prefix P(const char* text) {
  return Ipv6Prefix::parse(text).value();
}

AgentConfig config(const std::string& policy = "") {
  std::string text = "[agent]\nname = \"cr1\"\n[site]\nrouted_prefix = \"2001:db8:1:2:1::/80\"\n";
  if (!policy.empty()) text += "[policy]\n" + policy;
  return parse_agent_config(text, "t.toml").value();
}

DesiredState want(const AgentConfig& c, std::vector<Ipv6Prefix> home) {
  std::optional<Ipv6Prefix> primary;
  if (!home.empty()) primary = home.back();
  return desired_state(c, {std::move(home), primary});
}

// An in-memory router that applies operations the way RouterOS reads them back: booleans "true"/"false",
// "/128" dropped from firewall addresses, defaults filled in, place-before honoured, ids "*HEX".
class FakeRouter {
 public:
  FakeRouter() {
    tables.by_menu[std::string(menu::routing_table)] = {
        {{".id", "*0"}, {"dynamic", "true"}, {"fib", ""}, {"name", "main"}, {"disabled", "false"}}};
    tables.by_menu[std::string(menu::route)] = {{{".id", "*80000001"},
                                                 {"dst-address", "2001:db8:1200::/64"},
                                                 {"gateway", "bridge"},
                                                 {"routing-table", "main"},
                                                 {"dynamic", "true"},
                                                 {"distance", "0"}}};
    tables.by_menu[std::string(menu::address_list)] = {};
    tables.by_menu[std::string(menu::mangle)] = {};
  }

  std::string insert(std::string_view m, RosObject fields, bool read_back_form = true) {
    auto& rows = tables.by_menu[std::string(m)];
    std::string place_before;
    if (auto it = fields.find("place-before"); it != fields.end()) {
      place_before = it->second;
      fields.erase(it);
    }
    if (read_back_form) normalise(m, fields);
    char id[16];
    std::snprintf(id, sizeof id, "*%X", next_id++);
    fields[".id"] = id;
    auto pos = rows.end();
    if (!place_before.empty())
      pos = std::find_if(rows.begin(), rows.end(),
                         [&](const RosObject& r) { return r.at(".id") == place_before; });
    REQUIRE((place_before.empty() || pos != rows.end()));
    rows.insert(pos, fields);
    return id;
  }

  void apply(const Plan& plan) {
    for (const Operation& op : plan.operations) {
      ++writes;
      auto& rows = tables.by_menu[op.menu];
      auto it =
          std::find_if(rows.begin(), rows.end(), [&](const RosObject& r) { return r.at(".id") == op.id; });
      switch (op.verb) {
        case Verb::add:
          insert(op.menu, op.fields);
          break;
        case Verb::set: {
          REQUIRE(it != rows.end());
          REQUIRE(op.fields.count("place-before") == 0);
          for (const auto& [k, v] : op.fields) {
            if (!k.empty() && k[0] == '!')
              it->erase(k.substr(1));
            else
              (*it)[k] = v;
          }
          normalise(op.menu, *it);
          break;
        }
        case Verb::remove:
          REQUIRE(it != rows.end());
          rows.erase(it);
          break;
        case Verb::move: {
          REQUIRE(it != rows.end());
          RosObject moved = *it;
          rows.erase(it);
          auto dest = op.destination.empty()
                          ? rows.end()
                          : std::find_if(rows.begin(), rows.end(),
                                         [&](const RosObject& r) { return r.at(".id") == op.destination; });
          REQUIRE((op.destination.empty() || dest != rows.end()));
          rows.insert(dest, moved);
          break;
        }
      }
    }
  }

  RosObject* find_by_comment(std::string_view m, std::string_view comment) {
    for (auto& r : tables.by_menu[std::string(m)])
      if (r.count("comment") && r.at("comment") == comment) return &r;
    return nullptr;
  }

  RouterTables tables;
  int writes = 0;

 private:
  static void normalise(std::string_view m, RosObject& o) {
    for (auto& [k, v] : o) {
      if (v == "yes") v = "true";
      if (v == "no") v = "false";
      if (m == menu::mangle && (k == "src-address" || k == "dst-address") && v.size() > 4 &&
          v.compare(v.size() - 4, 4, "/128") == 0)
        v.erase(v.size() - 4);
    }
    if (m == menu::mangle) {
      o.emplace("passthrough", "true");
      o.emplace("log", "false");
      o.emplace("log-prefix", "");
      o.emplace("bytes", "0");
    }
    if (m == menu::route) o.emplace("distance", "1");
    o.emplace("disabled", "false");
    o.emplace("dynamic", "false");
  }

  unsigned next_id = 0x10;
};

std::vector<std::string> summary(const Plan& p) {
  std::vector<std::string> out;
  for (const Operation& op : p.operations) {
    std::string s = std::string(to_string(op.verb)) + " " + op.menu;
    if (op.menu == menu::address_list && op.verb == Verb::add) s += " " + op.fields.at("address");
    if (op.menu == menu::address_list && op.verb == Verb::remove) s += " " + op.old_fields.at("address");
    out.push_back(s);
  }
  return out;
}

const std::string T = "/routing/table", R = "/ipv6/route", L = "/ipv6/firewall/address-list",
                  M = "/ipv6/firewall/mangle";

// Converges from `router`'s state, then checks the second plan is empty.
void converge(FakeRouter& router, const DesiredState& d, ReconcileOptions o = {}) {
  router.apply(plan(d, router.tables, o));
  auto again = plan(d, router.tables, o);
  INFO(render_plan(again));
  CHECK(again.empty());
}

}  // namespace

TEST_CASE("reconciler: field comparison is semantic") {
  struct Case {
    std::string_view menu, field, desired;
    bool present;
    std::string_view actual;
    bool match;
  };
  const Case cases[] = {
      {M, "passthrough", "no", true, "false", true},
      {M, "passthrough", "yes", true, "true", true},
      {M, "passthrough", "yes", false, "", true},  // default yes
      {M, "passthrough", "no", false, "", false},
      {M, "disabled", "no", false, "", true},
      {M, "disabled", "no", true, "true", false},
      {M, "dst-address", "!2001:db8::1/128", true, "!2001:db8::1", true},
      {M, "dst-address", "!2001:db8:1200::/56", true, "2001:db8:1200::/56", false},
      {M, "dst-address", "!2001:db8:1200::/56", true, "!2001:0db8:1200:0::/56", true},
      {M, "src-address", "2001:db8:1:2:1::/80", false, "", false},
      {M, "dst-address-list", "!sixgate-home", true, "!sixgate-home", true},
      {M, "dst-address-list", "!sixgate-home", true, "sixgate-home", false},
      {L, "address", "2001:db8::5/128", true, "2001:db8::5", true},
      {L, "address", "2001:db8::5", true, "2001:db8::5/128", true},
      {L, "timeout", "1d", true, "23h59m", true},
      {R, "distance", "20", true, "20", true},
      {R, "distance", "1", false, "", true},
      {R, "distance", "20", false, "", false},
      {R, "routing-table", "main", false, "", true},
      {R, "gateway", "fe80::1%wg", true, "fe80:0::1%wg", true},
      {R, "gateway", "fe80::1%wg", true, "fe80::1%wg2", false},
      {R, "dst-address", "::/0", true, "::/0", true},
      {T, "fib", "", true, "", true},
      {T, "fib", "", false, "", false},
      {T, "name", "extip1_rt", true, "extip1_rt", true},
      {T, "comment", "x", false, "", false},
  };
  for (const Case& c : cases) {
    INFO(c.menu << " " << c.field << " desired=" << c.desired << " present=" << c.present
                << " actual=" << c.actual);
    CHECK(field_matches(c.menu, c.field, c.desired, c.present, c.actual) == c.match);
  }
}

// The scenarios side by side: each starts from a router converged on 2001:db8:1200::/56 (unless
// fresh), disturbs it, and names the whole plan; applying that plan must leave nothing to do.
TEST_CASE("reconciler: scenario table") {
  struct Scenario {
    const char* name;
    const char* policy;
    bool fresh;
    std::function<void(FakeRouter&)> disturb;
    std::vector<const char*> home;
    std::vector<std::string> expected;
  };
  const auto nothing = [](FakeRouter&) {};
  const std::vector<Scenario> scenarios{
      {"fresh router",
       "",
       true,
       nothing,
       {"2001:db8:1200::/56"},
       {"add " + T, "add " + R, "add " + L + " 2001:db8:1200::/56", "add " + M}},
      {"in sync", "", false, nothing, {"2001:db8:1200::/56"}, {}},
      {"prefix change",
       "",
       false,
       nothing,
       {"2001:db8:3400::/56"},
       {"add " + L + " 2001:db8:3400::/56", "remove " + L + " 2001:db8:1200::/56"}},
      {"hand-edited rule",
       "",
       false,
       [](FakeRouter& r) { (*r.find_by_comment(M, "sixgate:cr1:home:rule"))["disabled"] = "true"; },
       {"2001:db8:1200::/56"},
       {"set " + M}},
      {"foreign objects present",
       "",
       false,
       [](FakeRouter& r) {
         r.insert(L, {{"list", "blocklist"}, {"address", "2001:db8:bad::/48"}});
         r.insert(M, {{"chain", "prerouting"}, {"action", "accept"}, {"comment", "by hand"}});
         r.insert(T, {{"name", "extip1_rt"}, {"fib", ""}});
       },
       {"2001:db8:1200::/56"},
       {}},
      {"router reboot (timed entries lost)",
       "address_list_timeout = \"1d\"\n",
       false,
       [](FakeRouter& r) { r.tables.by_menu[L].clear(); },
       {"2001:db8:1200::/56"},
       {"add " + L + " 2001:db8:1200::/56"}},
  };
  for (const Scenario& s : scenarios) {
    INFO(s.name);
    FakeRouter router;
    const auto c = config(s.policy);
    if (!s.fresh) converge(router, want(c, {P("2001:db8:1200::/56")}));
    s.disturb(router);
    std::vector<Ipv6Prefix> home;
    for (const char* h : s.home) home.push_back(P(h));
    const auto d = want(c, home);
    const auto p = plan(d, router.tables, {});
    CHECK(summary(p) == s.expected);
    converge(router, d);
  }
}

TEST_CASE("reconciler: fresh router gets table, route, entries, then the rule -- second plan is empty") {
  FakeRouter router;
  auto d = want(config(), {P("2001:db8:1200::/56"), P("fd00::/8")});
  auto p = plan(d, router.tables, {});
  CHECK(summary(p) == std::vector<std::string>{"add " + T, "add " + R, "add " + L + " 2001:db8:1200::/56",
                                               "add " + L + " fd00::/8", "add " + M});
  CHECK(p.operations.back().fields.count("place-before") == 0);  // no other rule in the chain
  router.apply(p);
  auto again = plan(d, router.tables, {});
  INFO(render_plan(again));
  CHECK(again.empty());
  CHECK(render_plan(again).find("No changes") != std::string::npos);
}

TEST_CASE("reconciler: a new prefix is added before the rule, the old one removed after it") {
  FakeRouter router;
  auto c = config();
  converge(router, want(c, {P("2001:db8:1200::/56")}));
  auto p = plan(want(c, {P("2001:db8:3400::/56")}), router.tables, {});
  CHECK(summary(p) ==
        std::vector<std::string>{"add " + L + " 2001:db8:3400::/56", "remove " + L + " 2001:db8:1200::/56"});
  converge(router, want(c, {P("2001:db8:3400::/56")}));
}

TEST_CASE("reconciler: hand-edited rule gets one set with only the differing fields") {
  FakeRouter router;
  auto c = config();
  auto d = want(c, {P("2001:db8:1200::/56")});
  converge(router, d);
  RosObject* rule = router.find_by_comment(M, "sixgate:cr1:home:rule");
  REQUIRE(rule);
  (*rule)["passthrough"] = "true";
  (*rule)["disabled"] = "true";
  (*rule)["protocol"] = "tcp";
  (*rule)["log"] = "true";  // not ours to judge: left alone
  auto p = plan(d, router.tables, {});
  REQUIRE(p.operations.size() == 1);
  const Operation& op = p.operations[0];
  CHECK(op.verb == Verb::set);
  CHECK(op.id == rule->at(".id"));
  CHECK(op.fields == RosObject{{"passthrough", "no"}, {"disabled", "no"}, {"!protocol", ""}});
  CHECK(op.old_fields.at("passthrough") == "true");
  std::string text = render_plan(p);
  CHECK(text.find("~ set") != std::string::npos);
  CHECK(text.find("passthrough: \"true\" -> \"no\"") != std::string::npos);
  CHECK(text.find("protocol: \"tcp\" -> (unset)") != std::string::npos);
  converge(router, d);
}

TEST_CASE("reconciler: hand-deleted route is re-added, nothing else changes") {
  FakeRouter router;
  auto d = want(config(), {P("2001:db8:1200::/56")});
  converge(router, d);
  auto& routes = router.tables.by_menu[R];
  routes.erase(std::remove_if(routes.begin(), routes.end(),
                              [](const RosObject& r) { return r.count("comment") != 0; }),
               routes.end());
  auto p = plan(d, router.tables, {});
  CHECK(summary(p) == std::vector<std::string>{"add " + R});
  converge(router, d);
}

TEST_CASE("reconciler: router reboot lost the address-list entries -- only they are re-added") {
  FakeRouter router;
  auto d = want(config("address_list_timeout = \"1d\"\n"), {P("2001:db8:1200::/56"), P("fd00::/8")});
  converge(router, d);
  router.tables.by_menu[L].clear();
  auto p = plan(d, router.tables, {});
  CHECK(summary(p) == std::vector<std::string>{"add " + L + " 2001:db8:1200::/56", "add " + L + " fd00::/8"});
  CHECK(p.operations[0].fields.at("timeout") == "1d");
  converge(router, d);
}

TEST_CASE("reconciler: foreign objects are never touched") {
  FakeRouter router;
  // The reference setup's hand-made objects (no tag), another agent's objects, other lists.
  std::string foreign_table = router.insert(T, {{"name", "extip1_rt"}, {"fib", ""}});
  std::string foreign_rule = router.insert(M, {{"chain", "prerouting"},
                                               {"action", "mark-routing"},
                                               {"new-routing-mark", "extip1_rt"},
                                               {"passthrough", "no"},
                                               {"src-address", "2001:db8:1:2:1::/80"},
                                               {"dst-address", "!2001:db8::/32"}});
  std::string other_agent = router.insert(
      M, {{"chain", "prerouting"}, {"action", "accept"}, {"comment", "sixgate:other:home:rule"}});
  std::string other_list = router.insert(L, {{"list", "blocklist"}, {"address", "2001:db8:bad::/48"}});
  std::string other_agent_entry = router.insert(L, {{"list", "sixgate-home"},
                                                    {"address", "2001:db8:9::/56"},
                                                    {"comment", "sixgate:cr1:office:home-prefix"}});

  auto d = want(config(), {P("2001:db8:1200::/56")});
  auto p = plan(d, router.tables, {});
  for (const Operation& op : p.operations) {
    CHECK(op.id != foreign_table);
    CHECK(op.id != foreign_rule);
    CHECK(op.id != other_agent);
    CHECK(op.id != other_list);
    CHECK(op.id != other_agent_entry);
  }
  // The table name exists untagged: used as it is, not re-added (RouterOS would refuse a duplicate name).
  CHECK(summary(p) == std::vector<std::string>{"add " + R, "add " + L + " 2001:db8:1200::/56", "add " + M});
  CHECK(std::any_of(p.warnings.begin(), p.warnings.end(), [](const std::string& w) {
    return w.find("routing table extip1_rt exists") != std::string::npos;
  }));
  // Top position: our new rule goes before the first rule of the chain.
  CHECK(p.operations.back().fields.at("place-before") == foreign_rule);
  converge(router, d);
  CHECK(router.tables.by_menu[M].front().at("comment") == "sixgate:cr1:home:rule");
}

TEST_CASE("reconciler: adopt takes over exact untagged matches by setting only the comment") {
  FakeRouter router;
  std::string table = router.insert(T, {{"name", "extip1_rt"}, {"fib", ""}});
  std::string route = router.insert(R, {{"dst-address", "::/0"},
                                        {"gateway", "fe80::1%extip1_wg"},
                                        {"routing-table", "extip1_rt"},
                                        {"distance", "20"}});
  std::string entry = router.insert(L, {{"list", "sixgate-home"}, {"address", "2001:db8:1200::/56"}});
  std::string rule = router.insert(M, {{"chain", "prerouting"},
                                       {"action", "mark-routing"},
                                       {"new-routing-mark", "extip1_rt"},
                                       {"passthrough", "no"},
                                       {"src-address", "2001:db8:1:2:1::/80"},
                                       {"dst-address-list", "!sixgate-home"}});
  auto c = config("adopt = true\n");
  auto d = want(c, {P("2001:db8:1200::/56")});
  auto p = plan(d, router.tables, {true});
  REQUIRE(p.operations.size() == 4);
  std::vector<std::string> ids;
  for (const Operation& op : p.operations) {
    CHECK(op.verb == Verb::set);
    CHECK(op.fields.size() == 1);
    CHECK(op.fields.count("comment") == 1);
    ids.push_back(op.id);
  }
  CHECK(ids == std::vector<std::string>{table, route, entry, rule});
  converge(router, d, {true});

  SECTION("without adopt, route and rule get our own copies and a warning") {
    FakeRouter r2;
    r2.insert(T, {{"name", "extip1_rt"}, {"fib", ""}});
    r2.insert(R, {{"dst-address", "::/0"},
                  {"gateway", "fe80::1%extip1_wg"},
                  {"routing-table", "extip1_rt"},
                  {"distance", "20"}});
    r2.insert(L, {{"list", "sixgate-home"}, {"address", "2001:db8:1200::/56"}});
    auto p2 = plan(want(config(), {P("2001:db8:1200::/56")}), r2.tables, {false});
    CHECK(summary(p2) == std::vector<std::string>{"add " + R, "add " + M});
    CHECK(p2.warnings.size() >= 3);
  }
}

TEST_CASE("reconciler: adopt does not take an object that differs") {
  FakeRouter router;
  std::string route = router.insert(R, {{"dst-address", "::/0"},
                                        {"gateway", "fe80::2%extip1_wg"},
                                        {"routing-table", "extip1_rt"},
                                        {"distance", "20"}});
  auto p = plan(want(config(), {P("2001:db8:1200::/56")}), router.tables, {true});
  for (const Operation& op : p.operations) CHECK(op.id != route);
}

TEST_CASE("reconciler: duplicates of tagged objects are removed, the first one kept") {
  FakeRouter router;
  auto d = want(config(), {P("2001:db8:1200::/56")});
  converge(router, d);
  RosObject route_copy = *router.find_by_comment(R, "sixgate:cr1:home:route");
  route_copy.erase(".id");
  std::string extra_route = router.insert(R, route_copy, false);
  std::string extra_entry = router.insert(L, {{"list", "sixgate-home"},
                                              {"address", "2001:db8:1200::/56"},
                                              {"comment", "sixgate:cr1:home:home-prefix"}});
  auto p = plan(d, router.tables, {});
  REQUIRE(p.operations.size() == 2);
  for (const Operation& op : p.operations) CHECK(op.verb == Verb::remove);
  CHECK(p.operations[0].id == extra_route);
  CHECK(p.operations[1].id == extra_entry);
  converge(router, d);
}

TEST_CASE("reconciler: no home prefix known leaves the rule and entries alone and creates no rule") {
  auto c = config();
  SECTION("fresh router: table and route only") {
    FakeRouter router;
    auto p = plan(want(c, {}), router.tables, {});
    CHECK(summary(p) == std::vector<std::string>{"add " + T, "add " + R});
  }
  SECTION("existing policy is held") {
    FakeRouter router;
    converge(router, want(c, {P("2001:db8:1200::/56")}));
    auto p = plan(want(c, {}), router.tables, {});
    CHECK(p.empty());
    CHECK_FALSE(p.warnings.empty());
  }
}

TEST_CASE("reconciler: dst-address mode changes the rule in one set") {
  FakeRouter router;
  auto c = config("mode = \"dst-address\"\n");
  converge(router, want(c, {P("2001:db8:1200::/56")}));
  CHECK(router.find_by_comment(M, "sixgate:cr1:home:rule")->at("dst-address") == "!2001:db8:1200::/56");
  CHECK(router.tables.by_menu[L].empty());

  auto p = plan(want(c, {P("2001:db8:3400::/56")}), router.tables, {});
  REQUIRE(p.operations.size() == 1);
  CHECK(p.operations[0].verb == Verb::set);
  CHECK(p.operations[0].fields == RosObject{{"dst-address", "!2001:db8:3400::/56"}});
  CHECK(p.operations[0].old_fields.at("dst-address") == "!2001:db8:1200::/56");
  converge(router, want(c, {P("2001:db8:3400::/56")}));
}

TEST_CASE("reconciler: switching address-list -> dst-address mode: rule first, then entries removed") {
  FakeRouter router;
  converge(router, want(config(), {P("2001:db8:1200::/56")}));
  auto d = want(config("mode = \"dst-address\"\n"), {P("2001:db8:1200::/56")});
  auto p = plan(d, router.tables, {});
  REQUIRE(p.operations.size() == 2);
  CHECK(p.operations[0].verb == Verb::set);
  CHECK(p.operations[0].fields ==
        RosObject{{"dst-address", "!2001:db8:1200::/56"}, {"!dst-address-list", ""}});
  CHECK(summary(p)[1] == "remove " + L + " 2001:db8:1200::/56");
  converge(router, d);
}

TEST_CASE("reconciler: a /128 home prefix and routed prefix compare as parsed values") {
  FakeRouter router;
  auto c = parse_agent_config(
               "[site]\nrouted_prefix = \"2001:db8:1:2:1::7/128\"\n[policy]\nmode = \"dst-address\"\n", "t")
               .value();
  auto d = want(c, {P("2001:db8:1200::1/128")});
  converge(router, d);
  CHECK(router.find_by_comment(M, "sixgate:sixgate:home:rule")->at("dst-address") == "!2001:db8:1200::1");
}

TEST_CASE("reconciler: rule position") {
  auto add_other = [](FakeRouter& r, const char* comment) {
    return r.insert(M, {{"chain", "prerouting"}, {"action", "accept"}, {"comment", comment}});
  };
  SECTION("top: a rule that drifted down is moved back before the first one") {
    FakeRouter router;
    std::string first = add_other(router, "first");
    auto d = want(config(), {P("2001:db8:1200::/56")});
    converge(router, d);
    CHECK(router.tables.by_menu[M].front().at("comment") == "sixgate:cr1:home:rule");
    // Someone moves our rule to the end.
    auto& rows = router.tables.by_menu[M];
    std::rotate(rows.begin(), rows.begin() + 1, rows.end());
    auto p = plan(d, router.tables, {});
    REQUIRE(p.operations.size() == 1);
    CHECK(p.operations[0].verb == Verb::move);
    CHECK(p.operations[0].destination == first);
    CHECK(render_plan(p).find("move") != std::string::npos);
    converge(router, d);
  }
  SECTION("top ignores dynamic rules and other chains") {
    FakeRouter router;
    router.insert(M, {{"chain", "prerouting"}, {"action", "passthrough"}, {"dynamic", "true"}}, false);
    router.insert(M, {{"chain", "forward"}, {"action", "accept"}});
    auto d = want(config(), {P("2001:db8:1200::/56")});
    auto p = plan(d, router.tables, {});
    CHECK(p.operations.back().fields.count("place-before") == 0);
    converge(router, d);
  }
  SECTION("bottom: appended, and moved to the end if someone adds a rule after it") {
    FakeRouter router;
    add_other(router, "a");
    auto d = want(config("position = \"bottom\"\n"), {P("2001:db8:1200::/56")});
    converge(router, d);
    CHECK(router.tables.by_menu[M].back().at("comment") == "sixgate:cr1:home:rule");
    add_other(router, "b");
    auto p = plan(d, router.tables, {});
    REQUIRE(p.operations.size() == 1);
    CHECK(p.operations[0].verb == Verb::move);
    CHECK(p.operations[0].destination.empty());
    converge(router, d);
  }
  SECTION("before:<comment>") {
    FakeRouter router;
    add_other(router, "a");
    std::string marker = add_other(router, "marker");
    auto d = want(config("position = \"before:marker\"\n"), {P("2001:db8:1200::/56")});
    auto p = plan(d, router.tables, {});
    CHECK(p.operations.back().fields.at("place-before") == marker);
    converge(router, d);
    const auto& rows = router.tables.by_menu[M];
    CHECK(rows[1].at("comment") == "sixgate:cr1:home:rule");
    CHECK(rows[2].at("comment") == "marker");
  }
}

TEST_CASE("reconciler: objects with our tag prefix but an unknown role are removed last") {
  FakeRouter router;
  auto d = want(config(), {P("2001:db8:1200::/56")});
  converge(router, d);
  std::string stale = router.insert(R, {{"dst-address", "::/0"},
                                        {"gateway", "fe80::9%x"},
                                        {"routing-table", "main"},
                                        {"comment", "sixgate:cr1:home:old-route"}});
  auto p = plan(d, router.tables, {});
  REQUIRE(p.operations.size() == 1);
  CHECK(p.operations[0].verb == Verb::remove);
  CHECK(p.operations[0].id == stale);
}

TEST_CASE("reconciler: entries with a timeout are renewed once half of it has passed") {
  FakeRouter router;
  auto d = want(config("address_list_timeout = \"1d\"\n"), {P("2001:db8:1200::/56")});
  converge(router, d);
  RosObject* entry = router.find_by_comment(L, "sixgate:cr1:home:home-prefix");
  REQUIRE(entry);
  (*entry)["timeout"] = "13h";  // more than half left
  CHECK(plan(d, router.tables, {}).empty());
  (*entry)["timeout"] = "11h59m";
  auto p = plan(d, router.tables, {});
  REQUIRE(p.operations.size() == 1);
  CHECK(p.operations[0].verb == Verb::set);
  CHECK(p.operations[0].fields == RosObject{{"timeout", "1d"}});
  converge(router, d);
}

TEST_CASE("reconciler: an entry held by another agent or someone else blocks a duplicate add") {
  FakeRouter router;
  router.insert(
      L,
      {{"list", "sixgate-home"}, {"address", "2001:db8:1200::/56"}, {"comment", "sixgate:x:y:home-prefix"}});
  router.insert(T, {{"name", "extip1_rt"}, {"fib", ""}, {"comment", "sixgate:x:y:table"}});
  auto p = plan(want(config("adopt = true\n"), {P("2001:db8:1200::/56")}), router.tables, {true});
  CHECK(summary(p) == std::vector<std::string>{"add " + R, "add " + M});
  CHECK(p.warnings.size() >= 2);
}

TEST_CASE("reconciler: stale entries are kept while a source has not reported") {
  FakeRouter router;
  auto c = config();
  converge(router, want(c, {P("2001:db8:1200::/56")}));
  ReconcileOptions waiting;
  waiting.keep_stale_home_prefixes = true;
  auto p = plan(want(c, {P("fd00::/8")}), router.tables, waiting);
  CHECK(summary(p) == std::vector<std::string>{"add " + L + " fd00::/8"});
  auto later = plan(want(c, {P("fd00::/8")}), router.tables, {});
  CHECK(summary(later) ==
        std::vector<std::string>{"add " + L + " fd00::/8", "remove " + L + " 2001:db8:1200::/56"});
}
