#pragma once
// A snapshot of what the running agent knows, for `sixgate-agent status` and the channel.
// Obtain it with Agent::status() (agent/agent.hpp): that call is thread-safe (it copies under a mutex), so
// the channel code may call it from its own handlers on the same io_context or from another thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/prefix_set.hpp"
#include "common/channel/payload.hpp"
#include "common/ip.hpp"

namespace sixgate::agent {

// starting: no reconcile round finished yet; in_sync: the last round found nothing to change (or applied
// everything); pending: a prefix change waits for its debounce, or writes are due (dry-run: changes the agent
// would make); error: the last round failed, `sync_reason` says why, the agent retries with backoff.
// The same vocabulary travels on the channel, so it is the channel's type.
using SyncState = channel::SyncState;
using channel::to_string;

struct AgentStatus {
  std::string agent_name, site_name;
  bool dry_run = false;
  std::vector<PrefixState> prefixes;  // candidate set with remaining lifetimes (as of the snapshot)
  std::vector<Ipv6Prefix> effective;  // what the router's rule excludes (or should)
  SyncState sync = SyncState::starting;
  std::string sync_reason;                                                  // error text, or what is pending
  std::optional<std::chrono::system_clock::time_point> last_prefix_change;  // effective set last changed
  std::string last_prefix_change_text;                                      // "old -> new (why)"
  std::optional<std::chrono::system_clock::time_point> last_sync;           // last successful round
  std::uint64_t rounds = 0;                                                 // reconcile rounds run
  std::uint64_t writes = 0;  // router writes applied since start
  // The routed prefix in use (site.routed_prefix, or what a proxy said with channel.use_proxy_prefixes);
  // what the reports to the proxies carry. nullopt when none is configured.
  std::optional<Ipv6Prefix> routed_prefix;
};

// Rendered as JSON for `sixgate-agent status` and the control socket by agent_status_json()
// (agent/channel_client.hpp).

}  // namespace sixgate::agent
