#pragma once
// `sixgate-proxy status [--json] [--control-socket PATH] [--site NAME]`: asks the running proxy over its
// control socket and prints per site the agent's delegated prefixes and lifetimes, router sync state, last
// change and when it was last heard from (or the raw status object with --json). Exit codes: 0 healthy, 1
// unhealthy (a site's agent stale or never seen, sync error, a listen address not bound), 2 usage error, 3
// daemon unreachable. With --site only that site is shown and counts: 0 when its agent is ok, 1 otherwise, 2
// when the proxy has no such site.
#include <string>

#include <nlohmann/json.hpp>

namespace sixgate::proxy {

// argv: the arguments after "status".
int run_proxy_status_command(int argc, char** argv);

// The table for a proxy_status_json() object (exposed for tests).
std::string render_proxy_status(const nlohmann::json& status);

}  // namespace sixgate::proxy
