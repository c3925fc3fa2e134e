#pragma once
// `sixgate-agent status [--json] [--control-socket PATH]`: asks the running agent over its control socket
// and prints its delegated prefixes and lifetimes, router sync state, last change, and for every proxy when
// it was last heard from and what it says the site's prefixes are (or the raw status object with --json).
// Exit codes: 0 healthy, 1 unhealthy (sync error, a proxy stale or never heard from), 2 usage error,
// 3 daemon unreachable.
#include <string>

#include <nlohmann/json.hpp>

namespace sixgate::agent {

// argv: the arguments after "status".
int run_agent_status_command(int argc, char** argv);

// The table for an agent_status_json() object (exposed for tests).
std::string render_agent_status(const nlohmann::json& status);

}  // namespace sixgate::agent
