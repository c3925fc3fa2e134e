#include "agent/core/desired_state.hpp"

namespace sixgate::agent {
namespace {

std::string yes_no(bool b) {
  return b ? "yes" : "no";
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::table:
      return "table";
    case Role::route:
      return "route";
    case Role::rule:
      return "rule";
    case Role::home_prefix:
      return "home-prefix";
  }
  return "unknown";
}

std::string owner_tag_prefix(const AgentConfig& config) {
  return "sixgate:" + config.agent.name + ":" + config.site.name + ":";
}

std::string owner_tag(const AgentConfig& config, Role role) {
  return owner_tag_prefix(config) + std::string(to_string(role));
}

DesiredState desired_state(const AgentConfig& config, const HomePrefixes& home) {
  const PolicyConfig& policy = config.policy;
  DesiredState d;
  d.tag_prefix = owner_tag_prefix(config);
  d.position = policy.position;
  d.address_list = policy.address_list;

  d.objects.push_back(DesiredObject{Role::table,
                                    std::string(menu::routing_table),
                                    {{"name", policy.routing_table},
                                     {"fib", ""},
                                     {"disabled", "no"},
                                     {"comment", owner_tag(config, Role::table)}},
                                    "routing table " + policy.routing_table});

  d.objects.push_back(DesiredObject{Role::route,
                                    std::string(menu::route),
                                    {{"dst-address", "::/0"},
                                     {"gateway", policy.gateway},
                                     {"routing-table", policy.routing_table},
                                     {"distance", std::to_string(policy.distance)},
                                     {"disabled", "no"},
                                     {"comment", owner_tag(config, Role::route)}},
                                    "default route in " + policy.routing_table + " via " + policy.gateway});

  if (home.prefixes.empty()) {
    d.hold_policy = true;
    d.warnings.push_back(
        "no home prefix known yet: the mangle rule and the address-list entries are left as they are "
        "(a rule that excludes nothing would send home traffic through the tunnel)");
    return d;
  }

  RosObject rule{{"chain", policy.chain},
                 {"action", "mark-routing"},
                 {"new-routing-mark", policy.routing_table},
                 {"passthrough", yes_no(policy.passthrough)},
                 {"src-address", config.site.routed_prefix.to_string()},
                 {"disabled", "no"},
                 {"comment", owner_tag(config, Role::rule)}};

  if (policy.mode == PolicyMode::address_list) {
    for (const Ipv6Prefix& p : home.prefixes) {
      RosObject entry{{"list", policy.address_list},
                      {"address", p.to_string()},
                      {"disabled", "no"},
                      {"comment", owner_tag(config, Role::home_prefix)}};
      if (policy.address_list_timeout) entry["timeout"] = *policy.address_list_timeout;
      d.objects.push_back(DesiredObject{Role::home_prefix, std::string(menu::address_list), std::move(entry),
                                        "home prefix " + p.to_string() + " in " + policy.address_list});
    }
    rule["dst-address-list"] = "!" + policy.address_list;
  } else {
    Ipv6Prefix pick = home.primary.value_or(home.prefixes.front());
    if (!home.primary) {
      for (const Ipv6Prefix& p : home.prefixes)
        if (p.length() < pick.length()) pick = p;
    }
    if (home.prefixes.size() > 1) {
      std::string others;
      for (const Ipv6Prefix& p : home.prefixes) {
        if (p == pick) continue;
        if (!others.empty()) others += ", ";
        others += p.to_string();
      }
      d.warnings.push_back(
          "dst-address mode excludes only " + pick.to_string() + "; traffic to " + others +
          " is marked too (use policy.mode = \"address-list\" to exclude every home prefix)");
    }
    rule["dst-address"] = pick.to_string().insert(0, 1, '!');
  }
  d.objects.push_back(DesiredObject{Role::rule, std::string(menu::mangle), std::move(rule),
                                    "mangle rule (" + policy.chain + ", src " +
                                        config.site.routed_prefix.to_string() + " -> " +
                                        policy.routing_table + ")"});
  return d;
}

}  // namespace sixgate::agent
