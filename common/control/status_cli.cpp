#include "common/control/status_cli.hpp"

#include <cstdio>
#include <iostream>
#include <string_view>

#include "common/control/client.hpp"
#include "common/control/format.hpp"

namespace sixgate::control {

std::optional<nlohmann::json> proxy_status_for_site(const nlohmann::json& status, const std::string& site) {
  auto channel = status.find("channel");
  if (channel == status.end() || !channel->is_object()) return std::nullopt;
  auto sites = channel->find("sites");
  if (sites == channel->end() || !sites->is_array()) return std::nullopt;
  for (const auto& s : *sites) {
    if (!s.is_object() || s.value("name", nlohmann::json()) != site) continue;
    const bool healthy = s.value("health", nlohmann::json()) == "ok";
    nlohmann::json narrowed = status;
    narrowed["healthy"] = healthy;
    narrowed["channel"]["healthy"] = healthy;
    narrowed["channel"]["sites"] = nlohmann::json::array({s});
    return narrowed;
  }
  return std::nullopt;
}

namespace {

std::string site_names(const nlohmann::json& status) {
  std::string names;
  const auto channel = status.value("channel", nlohmann::json::object());
  if (!channel.is_object()) return "none";
  for (const auto& s : channel.value("sites", nlohmann::json::array()))
    if (s.is_object() && s.value("name", nlohmann::json()).is_string())
      names += (names.empty() ? "" : ", ") + shorten(s["name"].get<std::string>(), 64);
  return names.empty() ? "none" : names;
}

}  // namespace

int run_status_command(const StatusCommand& command, int argc, char** argv) {
  bool json = false;
  std::string socket = command.default_socket;
  std::optional<std::string> site;
  const std::string usage = "usage: " + command.program + " status [--json] [--control-socket PATH]" +
                            (command.select_site ? " [--site NAME]" : "") + "\n";
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--json" || arg == "-json") {
      json = true;
    } else if (arg == "--control-socket" || arg == "-control-socket") {
      if (i + 1 >= argc) {
        std::cerr << command.program << " status: --control-socket needs a path\n" << usage;
        return kExitUsage;
      }
      socket = argv[++i];
    } else if (arg.starts_with("--control-socket=")) {
      socket = std::string(arg.substr(std::string_view("--control-socket=").size()));
    } else if (command.select_site && (arg == "--site" || arg == "-site")) {
      if (i + 1 >= argc) {
        std::cerr << command.program << " status: --site needs a name\n" << usage;
        return kExitUsage;
      }
      site = argv[++i];
    } else if (command.select_site && arg.starts_with("--site=")) {
      site = std::string(arg.substr(std::string_view("--site=").size()));
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage << "Queries the running daemon over its control socket (default "
                << command.default_socket << ").\n"
                << (command.select_site ? "--site NAME shows one site; the exit code is that site's alone.\n"
                                        : "")
                << "Exit codes: 0 healthy, 1 unhealthy, 2 usage error (also: no such site), 3 daemon "
                   "unreachable.\n";
      return kExitHealthy;
    } else {
      std::cerr << command.program << " status: unknown argument '" << arg << "'\n" << usage;
      return kExitUsage;
    }
  }
  if (socket.empty()) {
    std::cerr << command.program << " status: empty control socket path\n";
    return kExitUsage;
  }
  auto reply = request(socket, {{"command", "status"}});
  if (!reply || !reply->is_object()) {
    std::cerr << command.program << " status: daemon unreachable: "
              << (reply ? "reply is not a status object" : reply.error().message) << "\n";
    return kExitUnreachable;
  }
  nlohmann::json status = std::move(reply).value();
  if (site) {
    auto narrowed = command.select_site(status, *site);
    if (!narrowed) {
      std::cerr << command.program << " status: no site \"" << shorten(*site, 64)
                << "\" (configured: " << site_names(status) << ")\n";
      return kExitUsage;
    }
    status = std::move(*narrowed);
  }
  auto healthy_field = status.find("healthy");
  const bool healthy =
      healthy_field != status.end() && healthy_field->is_boolean() && healthy_field->get<bool>();
  if (json)
    std::cout << status.dump(2, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace) << "\n";
  else {
    try {
      std::cout << command.render(status);
    } catch (const std::exception& e) {  // a daemon of another version may send fields of other types
      std::cerr << command.program << " status: cannot render the reply (" << e.what()
                << "), raw JSON follows\n";
      std::cout << status.dump(2, ' ', /*ensure_ascii=*/true, nlohmann::json::error_handler_t::replace)
                << "\n";
    }
  }
  std::cout.flush();
  return healthy ? kExitHealthy : kExitUnhealthy;
}

}  // namespace sixgate::control
