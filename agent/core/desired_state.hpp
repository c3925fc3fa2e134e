#pragma once
// What the router should hold, computed from the config and the effective home prefixes. Pure.
//
// Every object the agent owns carries the comment tag "sixgate:<agent name>:<site name>:<role>".
// Empty home prefix set: the rule and the address-list entries are put on hold (`hold_policy`): the
// reconciler neither creates the rule nor removes old list entries, so home traffic is never marked by a rule
// that excludes nothing. The table and the route are still managed.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/config.hpp"
#include "agent/core/types.hpp"
#include "common/ip.hpp"

namespace sixgate::agent {

// REST menu paths, as in https://<router>/rest<menu>.
namespace menu {
inline constexpr std::string_view routing_table = "/routing/table";
inline constexpr std::string_view route = "/ipv6/route";
inline constexpr std::string_view address_list = "/ipv6/firewall/address-list";
inline constexpr std::string_view mangle = "/ipv6/firewall/mangle";
inline constexpr std::string_view dhcp_client = "/ipv6/dhcp-client";
}  // namespace menu

enum class Role { table, route, rule, home_prefix };
std::string_view to_string(Role role);  // "table", "route", "rule", "home-prefix"

// "sixgate:<agent>:<site>:" — every tag of this agent and site starts with it.
std::string owner_tag_prefix(const AgentConfig& config);
std::string owner_tag(const AgentConfig& config, Role role);

struct DesiredObject {
  Role role;
  std::string menu;
  RosObject fields;   // write form: booleans "yes"/"no", includes "comment" = the owner tag
  std::string label;  // for humans: "routing table extip1_rt", "home prefix 2001:db8:1::/56"
};

struct HomePrefixes {
  std::vector<Ipv6Prefix> prefixes;   // effective, normalised
  std::optional<Ipv6Prefix> primary;  // compatibility mode's pick (PrefixSet::primary())
};

struct DesiredState {
  std::string tag_prefix;              // owner_tag_prefix(config)
  std::vector<DesiredObject> objects;  // creation order: table, route, home prefixes, rule
  bool hold_policy = false;            // no home prefix known: leave rule and list entries as they are
  RulePosition position;
  std::string address_list;           // the list name (address-list mode), for matching untagged entries
  std::vector<std::string> warnings;  // e.g. several prefixes in dst-address mode
};

DesiredState desired_state(const AgentConfig& config, const HomePrefixes& home);

}  // namespace sixgate::agent
