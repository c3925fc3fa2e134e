#pragma once
// RouterOS value encoding (pure): durations, booleans, the dhcp-client `prefix` property.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/ip.hpp"
#include "common/result.hpp"

namespace sixgate::agent::routeros {

// "6d16h56m8s", "163w4d9h", "300ms", "1h30m", "00:00:10", "1d 00:00:00", "2w3d 04:05:06", "10" (plain
// seconds), "00:00:01.500". Units: w d h m s ms us. "never"/"infinite" are not durations (error); callers
// handle them.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// "1d2h3m4s" form, as RouterOS prints; zero is "0s". Sub-second parts are dropped unless the value is below 1
// s
// ("300ms").
std::string format_duration(std::chrono::milliseconds d);

// "true"/"yes" -> true, "false"/"no" -> false (case-sensitive, as RouterOS prints them); anything else is an
// error.
Result<bool> parse_bool(std::string_view text);

// What to send on write ("yes"/"no", as RouterOS' own tools do); the router reads it back as "true"/"false".
inline std::string format_bool(bool b) {
  return b ? "yes" : "no";
}

// `/ipv6/dhcp-client` `prefix`: "2001:db8:1200::/56, 6d16h56m8s". The lifetime part may be missing
// ("2001:db8:1200::/56"), then `remaining_valid` is empty. Several comma-separated prefixes: the first one is
// returned (format UNCONFIRMED by the shared notes).
struct DhcpClientPrefix {
  Ipv6Prefix prefix;
  std::optional<std::chrono::seconds> remaining_valid;
};
Result<DhcpClientPrefix> parse_dhcp_client_prefix(std::string_view text);

}  // namespace sixgate::agent::routeros
