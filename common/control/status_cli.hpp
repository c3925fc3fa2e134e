#pragma once
// The shared shape of `sixgate-proxy status` and `sixgate-agent status`:
//   status [--json] [--control-socket PATH] [--site NAME (when the command can select a site)]
// Exit codes: 0 healthy, 1 unhealthy (the daemon answered and its "healthy" field is not true), 2 usage
// error, 3 daemon unreachable (no socket, refused, timeout, or a reply that is not a status object).
#include <functional>
#include <optional>
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
  // Optional (`--site NAME`): the status narrowed to one site, its "healthy" that site's alone; nullopt
  // when the daemon has no such site.
  std::function<std::optional<nlohmann::json>(const nlohmann::json& status, const std::string& site)>
      select_site;
};

// select_site for a proxy status object ({"channel":{"sites":[{"name","health",...}]}}): keeps only that
// site; healthy when its health is "ok" (other sites and the listen addresses do not count).
std::optional<nlohmann::json> proxy_status_for_site(const nlohmann::json& status, const std::string& site);

// argv holds the arguments after "status". Writes to stdout/stderr and returns the exit code.
int run_status_command(const StatusCommand& command, int argc, char** argv);

}  // namespace sixgate::control
