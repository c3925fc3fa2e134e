#pragma once
// The JSON payloads of channel messages (docs/channel-protocol.md, "Payloads"). from_json() treats its input
// as untrusted: types, sizes and prefix syntax are checked, unknown keys are ignored (forward compatible
// within protocol version 1).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.hpp"
#include "common/result.hpp"

namespace sixgate::channel {

inline constexpr std::size_t kMaxPrefixes = 16;
inline constexpr std::size_t kMaxTextField = 256;

struct ReportedPrefix {
  Ipv6Prefix prefix;
  std::optional<std::int64_t> valid_s;      // remaining valid lifetime; nullopt: infinite
  std::optional<std::int64_t> preferred_s;  // remaining preferred lifetime; nullopt: infinite
};

enum class SyncState { starting, in_sync, pending, error };
std::string_view to_string(SyncState state);
std::optional<SyncState> parse_sync_state(std::string_view text);

// agent -> proxy
struct AgentReport {
  std::string agent_version;
  std::int64_t heartbeat_ms = 10000;  // the proxy calls the agent stale after 3 x this
  std::vector<ReportedPrefix> prefixes;
  SyncState sync = SyncState::starting;
  std::string sync_reason;
  std::optional<std::int64_t> last_change_ms;  // Unix milliseconds of the last effective prefix change
  std::optional<Ipv6Prefix> routed_prefix;  // the agent's own configured routed prefix, for mismatch checks
};

// proxy -> agent
struct ProxyInfo {
  std::string proxy_version;
  Ipv6Prefix routed_prefix;
  std::optional<Ipv6Prefix> nat46_prefix;
  std::string gateway;            // the tunnel gateway address as the home side should use it, e.g. "fe80::1"
  std::uint64_t ack_counter = 0;  // counter of the agent_report this answers
};

nlohmann::json to_json(const AgentReport& report);
nlohmann::json to_json(const ProxyInfo& info);
Result<AgentReport> agent_report_from_json(const nlohmann::json& j);
Result<ProxyInfo> proxy_info_from_json(const nlohmann::json& j);

// Parse payload text (no exceptions escape; deeply nested or invalid JSON is an error).
Result<nlohmann::json> parse_payload_text(std::string_view text);

}  // namespace sixgate::channel
