#pragma once
// The shared shape of `sixgate-proxy status` and `sixgate-agent status`:
//   status [--json] [--control-socket PATH]
// Exit codes: 0 healthy, 1 unhealthy (the daemon answered and its "healthy" field is not true), 2 usage
// error, 3 daemon unreachable (no socket, refused, timeout, or a reply that is not a status object).
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace sixgate::control {

inline constexpr int kExitHealthy = 0;
inline constexpr int kExitUnhealthy = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct StatusCommand {
  std::string program;         // "sixgate-proxy"
  std::string default_socket;  // "/run/sixgate/proxy.sock"
  // Renders the daemon's status object as the human-readable table.
  std::function<std::string(const nlohmann::json& status)> render;
};

// argv holds the arguments after "status". Writes to stdout/stderr and returns the exit code.
int run_status_command(const StatusCommand& command, int argc, char** argv);

}  // namespace sixgate::control
