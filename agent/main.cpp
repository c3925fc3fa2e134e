#include "agent/commands.hpp"

int main(int argc, char** argv) {
  // `sixgate-agent status` (the control-socket client) lives in agent/status_command.hpp and is routed here
  // before the command line below is parsed: if (argc > 1 && std::string_view(argv[1]) == "status") ...
  return sixgate::agent::run_agent_cli(argc, argv);
}
