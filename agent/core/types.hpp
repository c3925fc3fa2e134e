#pragma once
// Vocabulary shared by the agent's core, its prefix sources and its RouterOS client.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/ip.hpp"

namespace sixgate::agent {

// One RouterOS object as the REST API shows it: every value is a string ("true", "20", "*1A").
using RosObject = std::map<std::string, std::string>;

// A delegated (or otherwise home) prefix as one source sees it right now.
struct PrefixObservation {
  Ipv6Prefix prefix;
  std::chrono::seconds valid_lifetime{0};      // remaining; std::chrono::seconds::max() for infinite
  std::chrono::seconds preferred_lifetime{0};  // remaining
  std::string source;                          // e.g. "netlink:eth0", "dhcp-client:ether1", "static"
};

}  // namespace sixgate::agent
