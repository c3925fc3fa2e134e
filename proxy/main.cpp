// sixgate-proxy: parse the command line (snid's flags and ours), set up logging, run.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "proxy/config.hpp"
#include "proxy/server.hpp"
#include "proxy/status_command.hpp"

int main(int argc, char** argv) {
  using namespace sixgate;
  if (argc > 1 && std::string_view(argv[1]) == "status")
    return proxy::run_proxy_status_command(argc - 2, argv + 2);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto config = proxy::parse_proxy_args(args);
  if (!config) {
    std::fprintf(stderr, "sixgate-proxy: %s\n(see sixgate-proxy --help)\n", config.error().message.c_str());
    return 2;
  }
  switch (config->action) {
    case proxy::ProxyConfig::Action::help:
      std::fputs(config->help_text.c_str(), stdout);
      return 0;
    case proxy::ProxyConfig::Action::version:
      std::puts("sixgate-proxy " SIXGATE_VERSION);
      return 0;
    case proxy::ProxyConfig::Action::run:
      break;
  }
  if (auto s = log::setup(config->log_level, config->log_format, config->access_log_flush.count() > 0); !s) {
    std::fprintf(stderr, "sixgate-proxy: %s\n", s.error().message.c_str());
    return 2;
  }
  const int status = proxy::run_proxy(*config, args);
  log::flush();
  return status;
}
