#pragma once
// The running proxy: worker threads, and the main thread's signal handling. SIGTERM/SIGINT stop accepting and
// wait up to --drain-timeout for connections to finish, then stop those left (each logs outcome=stopped);
// SIGHUP re-reads the command line's --config and applies backend-cidr, default-hostname, timeouts and
// resolvers to new connections. A changed listen, mode or nat46-prefix refuses the reload; log level,
// workers, channel and control socket need a restart (a warning names them); a configuration that fails to
// load is logged and the running one kept.
#include <string>
#include <vector>

#include "proxy/config.hpp"

namespace sixgate::proxy {

// `args` are the command-line arguments the configuration came from (re-parsed on SIGHUP). Returns the exit
// code: 0 after a drain, 1 when the listeners or resolver cannot be set up.
int run_proxy(const ProxyConfig& config, const std::vector<std::string>& args);

}  // namespace sixgate::proxy
