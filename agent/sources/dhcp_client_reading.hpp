#pragma once
// Pure: what the router's `/ipv6/dhcp-client` rows say about the delegated prefix of one interface.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/types.hpp"
#include "common/result.hpp"

namespace sixgate::agent {

struct DhcpPrefixEntry {
  Ipv6Prefix prefix;
  std::optional<std::chrono::seconds> remaining_valid;
};

// The `prefix` property: "2001:db8:1200::/56, 6d16h56m8s". The shared notes do not confirm how several
// prefixes look, so this accepts a comma-separated sequence in which each part is either "<prefix>",
// "<prefix> <duration>" or a "<duration>" belonging to the prefix before it: "p1, 1d, p2, 2d", "p1, p2", "p1
// 1d, p2 2d". Empty text is an empty list. Anything else is an error naming the part.
Result<std::vector<DhcpPrefixEntry>> parse_dhcp_client_prefixes(std::string_view text);

struct DhcpClientReading {
  std::vector<PrefixObservation> observations;
  std::string state;  // for logs: "bound", "searching", "absent", "disabled", ...
};

// Picks the rows whose `interface` is `interface`. A row counts when it is not disabled and its `status` is
// bound, renewing or rebinding (the lease still holds); its `prefix` then gives the observations. The
// remaining valid lifetime comes from the prefix text, else from `expires-after`, else `assumed_lifetime`.
// RouterOS shows no preferred lifetime, so preferred = valid. No such row, or not bound: an empty set (not an
// error). An unreadable prefix or lifetime on a counted row is an error.
Result<DhcpClientReading> read_dhcp_client(const std::vector<RosObject>& rows, std::string_view interface,
                                           std::chrono::seconds assumed_lifetime, const std::string& source);

}  // namespace sixgate::agent
