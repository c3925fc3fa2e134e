#include "common/control/status_cli.hpp"

#include <cstdio>
#include <iostream>
#include <string_view>

#include "common/control/client.hpp"

namespace sixgate::control {

int run_status_command(const StatusCommand& command, int argc, char** argv) {
  bool json = false;
  std::string socket = command.default_socket;
  const std::string usage = "usage: " + command.program + " status [--json] [--control-socket PATH]\n";
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
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage << "Queries the running daemon over its control socket (default "
                << command.default_socket
                << ").\nExit codes: 0 healthy, 1 unhealthy, 2 usage error, 3 daemon unreachable.\n";
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
  auto healthy_field = reply->find("healthy");
  const bool healthy =
      healthy_field != reply->end() && healthy_field->is_boolean() && healthy_field->get<bool>();
  if (json)
    std::cout << reply->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else {
    try {
      std::cout << command.render(*reply);
    } catch (const std::exception& e) {  // a daemon of another version may send fields of other types
      std::cerr << command.program << " status: cannot render the reply (" << e.what()
                << "), raw JSON follows\n";
      std::cout << reply->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  }
  std::cout.flush();
  return healthy ? kExitHealthy : kExitUnhealthy;
}

}  // namespace sixgate::control
