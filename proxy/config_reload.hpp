#pragma once
// What a SIGHUP reload may change in a running proxy.
#include <string>
#include <vector>

#include "proxy/config.hpp"

namespace sixgate::proxy {

// What a reload finds changed that it cannot apply to a running proxy, as key names.
// `refused`: listen, mode, nat46-prefix. The sockets, and the meaning of every other key, depend on them, so
// the reload is refused as a whole and the running configuration kept.
// `need_restart`: log-level, log-format, workers, control-socket, channel, and access-log-flush between 0 and
// a batching interval (a new non-zero interval applies). They take effect only at start;
// the reload applies everything else and keeps the running values of these (keep_restart_only_values).
// `applied`: the other keys that changed, in the order of --help; in effect once the reload is logged.
struct ReloadDifferences {
  std::vector<std::string> refused;
  std::vector<std::string> need_restart;
  std::vector<std::string> applied;
};
ReloadDifferences reload_differences(const ProxyConfig& running, const ProxyConfig& next);
void keep_restart_only_values(const ProxyConfig& running, ProxyConfig& next);

}  // namespace sixgate::proxy
