#pragma once
// sixgate-proxy's configuration: snid-compatible flags (-flag and --flag), our own options, and an optional
// TOML file with the same keys (flags win over the file). Parsing is pure: no sockets, no files except
// --config.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"

namespace sixgate::proxy {

enum class Mode { nat46, tcp, unix_socket };
std::string_view to_string(Mode m);

// One -listen value: "tcp:PORT" (all addresses, dual-stack), "tcp:ADDR:PORT" / "tcp:[V6]:PORT", or "fd:N"
// (an inherited listening socket, e.g. systemd socket activation).
struct ListenSpec {
  enum class Kind { tcp, fd };
  Kind kind = Kind::tcp;
  std::string address;  // empty: every address (IPv6 wildcard, dual-stack)
  std::uint16_t port = 0;
  int fd = -1;
  std::string text;  // as written, for logs
};
Result<ListenSpec> parse_listen(std::string_view text);

// A DNS server: "IP" or "IP:PORT" or "[IPv6]:PORT"; rendered in c-ares' csv syntax.
struct ResolverAddress {
  std::string host;  // address text, no brackets
  std::uint16_t port = 53;
  bool v6 = false;
  std::string to_ares() const;
};
Result<ResolverAddress> parse_resolver(std::string_view text);
bool same_resolvers(const std::vector<ResolverAddress>& a, const std::vector<ResolverAddress>& b);

// "10s", "500ms", "2m", "1h" or a bare number of seconds; "0" and "off" mean zero (disabled where allowed).
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// TCP keepalive on both legs of a relayed connection, so a peer that vanished without a FIN or RST (power
// loss, a NAT that forgot the mapping, a tunnel that went down) ends the relay instead of holding both
// sockets, a --max-connections place and the backend's session for ever. The defaults are Go's, which snid
// runs with: probes after 15 s of silence, every 15 s, given up after 9 unanswered (~2.5 min in all).
struct TcpKeepalive {
  std::chrono::seconds idle{15}, interval{15};
  int probes = 9;
  bool operator==(const TcpKeepalive&) const = default;
};

// How both legs of a relayed connection notice a peer that is gone. `keepalive` probes while both sides are
// silent. `user_timeout` (TCP_USER_TIMEOUT; 0: off, the default, as in snid) ends a connection whose sent
// bytes stay unacknowledged this long, or whose peer keeps its receive window shut this long, which
// keepalive cannot see (a leg with bytes in flight sends no probes); with keepalive on it also replaces
// the probe count as the limit.
struct DeadPeerTimers {
  std::optional<TcpKeepalive> keepalive = TcpKeepalive{};  // nullopt: off
  std::chrono::milliseconds user_timeout{0};
  bool operator==(const DeadPeerTimers&) const = default;
};

// Parsed here, implemented by the channel server.
struct ChannelSiteConfig {
  std::string name, key_file;
  Ipv6Prefix routed_prefix;
  std::string gateway;
  bool operator==(const ChannelSiteConfig&) const = default;
};
struct ChannelConfig {
  std::vector<std::string> listen;
  std::vector<ChannelSiteConfig> sites;
  bool operator==(const ChannelConfig&) const = default;
};

struct ProxyConfig {
  enum class Action { run, help, version };
  Action action = Action::run;
  std::string help_text;  // filled when action == help

  std::vector<ListenSpec> listen;
  Mode mode = Mode::nat46;
  std::optional<Ipv6Prefix> nat46_prefix;
  std::vector<Ipv6Prefix> backend_cidr6;
  std::vector<Ipv4Prefix> backend_cidr4;        // tcp mode only
  std::optional<std::uint16_t> backend_port;    // default: the port the client connected to
  std::optional<std::string> default_hostname;  // canonical form
  bool proxy_proto = false;
  std::string unix_directory;

  std::chrono::milliseconds hello_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds idle_timeout{0};  // 0: off
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(10)};
  DeadPeerTimers dead_peer;
  std::size_t max_connections = 50000;
  std::size_t max_connections_per_client = 0;  // per client IPv4 address or IPv6 /64; 0: no limit
  unsigned workers = 0;                        // 0: one per core (resolved by the caller)
  std::vector<ResolverAddress> resolvers;      // empty: /etc/resolv.conf
  std::size_t max_hello_bytes = 65536;

  std::optional<std::string> log_level, log_format;
  // Access-log lines are gathered and written together at least this often (and when 32 KiB have gathered,
  // or another line is logged); 0 writes each at once. A crash loses at most this much of the access log.
  std::chrono::milliseconds access_log_flush{std::chrono::seconds(1)};
  std::optional<std::string> config_file;
  std::string control_socket = "/run/sixgate/proxy.sock";
  std::optional<ChannelConfig> channel;
};

// `args` are the arguments after the program name. Both "-listen x" and "--listen x" (and "=value") work.
// Errors name the offending flag or key; the caller exits 2 on them.
Result<ProxyConfig> parse_proxy_args(std::vector<std::string> args);

// The same, with `toml_text` standing for the contents of --config (for tests; `source` names it in errors).
Result<ProxyConfig> parse_proxy_args(std::vector<std::string> args, const std::string& toml_text,
                                     const std::string& source);

}  // namespace sixgate::proxy
