#include "proxy/config_reload.hpp"

#include <algorithm>

namespace sixgate::proxy {
namespace {
// Batching is chosen when logging is set up; a reload can change the interval but not switch it on or off.
bool switches_access_log_batching(const ProxyConfig& running, const ProxyConfig& next) {
  return (next.access_log_flush.count() == 0) != (running.access_log_flush.count() == 0);
}
}  // namespace

ReloadDifferences reload_differences(const ProxyConfig& running, const ProxyConfig& next) {
  ReloadDifferences d;
  if (!std::ranges::equal(next.listen, running.listen, {}, &ListenSpec::text, &ListenSpec::text))
    d.refused.emplace_back("listen");
  if (next.mode != running.mode) d.refused.emplace_back("mode");
  if (next.nat46_prefix != running.nat46_prefix) d.refused.emplace_back("nat46-prefix");
  if (next.log_level != running.log_level) d.need_restart.emplace_back("log-level");
  if (next.log_format != running.log_format) d.need_restart.emplace_back("log-format");
  if (switches_access_log_batching(running, next)) d.need_restart.emplace_back("access-log-flush");
  if (next.workers != running.workers) d.need_restart.emplace_back("workers");
  if (next.control_socket != running.control_socket) d.need_restart.emplace_back("control-socket");
  if (next.channel != running.channel) d.need_restart.emplace_back("channel");

  const auto applied = [&d](bool changed, const char* key) {
    if (changed) d.applied.emplace_back(key);
  };
  applied(next.backend_cidr6 != running.backend_cidr6 || next.backend_cidr4 != running.backend_cidr4,
          "backend-cidr");
  applied(next.backend_port != running.backend_port, "backend-port");
  applied(next.default_hostname != running.default_hostname, "default-hostname");
  applied(next.proxy_proto != running.proxy_proto, "proxy-proto");
  applied(next.unix_directory != running.unix_directory, "unix-directory");
  applied(next.hello_timeout != running.hello_timeout, "hello-timeout");
  applied(next.connect_timeout != running.connect_timeout, "connect-timeout");
  applied(next.idle_timeout != running.idle_timeout, "idle-timeout");
  applied(next.drain_timeout != running.drain_timeout, "drain-timeout");
  applied(next.dead_peer.keepalive != running.dead_peer.keepalive, "keepalive");
  applied(next.dead_peer.user_timeout != running.dead_peer.user_timeout, "tcp-user-timeout");
  applied(next.max_connections != running.max_connections, "max-connections");
  applied(next.max_connections_per_client != running.max_connections_per_client,
          "max-connections-per-client");
  applied(next.max_hello_bytes != running.max_hello_bytes, "max-hello-bytes");
  applied(!same_resolvers(next.resolvers, running.resolvers), "resolver");
  applied(next.access_log_flush != running.access_log_flush && !switches_access_log_batching(running, next),
          "access-log-flush");
  return d;
}

void keep_restart_only_values(const ProxyConfig& running, ProxyConfig& next) {
  next.log_level = running.log_level;
  next.log_format = running.log_format;
  if (switches_access_log_batching(running, next)) next.access_log_flush = running.access_log_flush;
  next.workers = running.workers;
  next.control_socket = running.control_socket;
  next.channel = running.channel;
}

}  // namespace sixgate::proxy
