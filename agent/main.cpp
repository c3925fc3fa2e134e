#include <string_view>

#include "agent/commands.hpp"
#include "agent/status_command.hpp"

int main(int argc, char** argv) {
  // `sixgate-agent status [--json] [--control-socket PATH]` asks the running daemon over its control socket.
  if (argc > 1 && std::string_view(argv[1]) == "status")
    return sixgate::agent::run_agent_status_command(argc - 2, argv + 2);
  return sixgate::agent::run_agent_cli(argc, argv);
}
