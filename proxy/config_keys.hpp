#pragma once
// The keys that may be given both as a flag and in the --config file: one table, so that --help, the flag
// parser and the file parser cannot drift apart. Values stay text until build_config() checks them, whichever
// of the two they came from.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sixgate::proxy {

struct ConfigKey {
  const char* name;
  bool multi;    // repeatable flag / array in the file
  bool is_flag;  // takes no value on the command line
  const char* help;
};

inline constexpr ConfigKey kConfigKeys[] = {
    {"listen", true, false, "tcp:PORT | tcp:ADDR:PORT | fd:N (repeatable)"},
    {"mode", false, false, "nat46 | tcp | unix (default nat46)"},
    {"nat46-prefix", false, false, "IPv6 /96 the client IPv4 is embedded in (nat46 mode)"},
    {"backend-cidr", true, false, "allowed backend prefix (repeatable; IPv4 only in tcp mode)"},
    {"backend-port", false, false, "backend port (default: the port the client connected to)"},
    {"default-hostname", false, false, "name used when the client sends no SNI / Host"},
    {"proxy-proto", false, true, "send a PROXY v2 header to the backend (tcp and unix modes)"},
    {"unix-directory", false, false, "unix mode: directory of sockets named after the host"},
    {"hello-timeout", false, false, "time allowed for the whole ClientHello (default 10s)"},
    {"connect-timeout", false, false, "time allowed to connect to the backend (default 10s)"},
    {"idle-timeout", false, false, "close a relayed connection idle this long (default off)"},
    {"drain-timeout", false, false, "on SIGTERM, wait this long for connections to finish (default 10s)"},
    {"keepalive", false, false, "TCP keepalive probes after this much silence, both legs (default 15s; off)"},
    {"keepalive-interval", false, false, "time between keepalive probes (default 15s)"},
    {"keepalive-count", false, false, "unanswered keepalive probes that end a connection (default 9)"},
    {"tcp-user-timeout", false, false,
     "end a connection whose sent bytes stay unacknowledged (or window shut) this long (default off)"},
    {"max-connections", false, false, "concurrent client connections (default 50000)"},
    {"max-connections-per-client", false, false,
     "concurrent connections from one IPv4 address or IPv6 /64 (default 0: no limit)"},
    {"max-hello-bytes", false, false, "largest ClientHello accepted (default 65536)"},
    {"workers", false, false, "worker threads (default: one per core)"},
    {"resolver", true, false, "DNS server IP[:PORT] (repeatable; default /etc/resolv.conf)"},
    {"log-level", false, false, "trace|debug|info|warn|error (default info)"},
    {"log-format", false, false, "plain | json"},
    {"access-log-flush", false, false,
     "write access-log lines in batches at least this often (default 1s; 0: each at once)"},
    {"control-socket", false, false, "control socket path (default /run/sixgate/proxy.sock)"},
};

inline const ConfigKey* find_config_key(std::string_view name) {
  for (const auto& k : kConfigKeys)
    if (name == k.name) return &k;
  return nullptr;
}

// Each given key's values as text, the last one winning for keys that are not repeatable.
using RawConfigValues = std::map<std::string, std::vector<std::string>>;

}  // namespace sixgate::proxy
