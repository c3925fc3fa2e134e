#pragma once
// The command line: sixgate-agent [--config FILE] [--log-level L] [--log-format F] run [--dry-run] | plan |
// apply --once | --version. Returns the process exit code.
namespace sixgate::agent {

int run_agent_cli(int argc, char** argv);

}  // namespace sixgate::agent
