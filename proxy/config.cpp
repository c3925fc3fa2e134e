#include "proxy/config.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "common/log.hpp"
#include "proxy/config_file.hpp"
#include "proxy/config_keys.hpp"
#include "proxy/config_values.hpp"
#include "proxy/core/hostname.hpp"

namespace sixgate::proxy {
namespace {

// Go's flag package (snid) spells long flags with one dash; CLI11 wants two. A lone dash + one letter (-h)
// and everything after "--" stay as they are, and positional words are untouched.
std::vector<std::string> normalise_dashes(std::vector<std::string> args) {
  for (auto& a : args) {
    if (a == "--") break;
    if (a.size() > 2 && a[0] == '-' && a[1] != '-' && std::isalpha(static_cast<unsigned char>(a[1])))
      a.insert(a.begin(), '-');
  }
  return args;
}

// Linux takes whole seconds up to 32767 for both times (TCP_KEEPIDLE, TCP_KEEPINTVL) and 1..127 probes.
Result<std::chrono::seconds> parse_keepalive_time(std::string_view text, const std::string& flag) {
  auto d = parse_duration(text);
  if (!d) return make_error(flag + ": " + d.error().message);
  if (d->count() % 1000 != 0 || *d < std::chrono::seconds(1) || *d > std::chrono::seconds(32767))
    return make_error(flag + ": '" + log::bounded(text, 40) +
                      "' is not a whole number of seconds from 1s to 32767s");
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Result<std::optional<TcpKeepalive>> parse_keepalive(const std::string* idle, const std::string* interval,
                                                    const std::string* count) {
  TcpKeepalive k;
  if (idle) {
    if (auto off = parse_duration(*idle); off && off->count() == 0) {
      if (interval || count)
        return make_error(std::string(interval ? "-keepalive-interval" : "-keepalive-count") +
                          " is not used with -keepalive off");
      return std::optional<TcpKeepalive>();
    }
    auto t = parse_keepalive_time(*idle, "-keepalive");
    if (!t) return t.error();
    k.idle = *t;
  }
  if (interval) {
    auto t = parse_keepalive_time(*interval, "-keepalive-interval");
    if (!t) return t.error();
    k.interval = *t;
  }
  if (count) {
    auto n = parse_uint<int>(*count, "-keepalive-count", 1, 127);
    if (!n) return n.error();
    k.probes = *n;
  }
  return std::optional<TcpKeepalive>(k);
}

// The given values by key: the last one of a single-valued key, all of a repeatable one.
class GivenValues {
 public:
  explicit GivenValues(const RawConfigValues& raw) : raw_(raw) {}
  const std::string* one(const char* key) const {
    auto it = raw_.find(key);
    if (it == raw_.end() || it->second.empty()) return nullptr;
    return &it->second.back();
  }
  std::vector<std::string> all(const char* key) const {
    auto it = raw_.find(key);
    return it == raw_.end() ? std::vector<std::string>{} : it->second;
  }

 private:
  const RawConfigValues& raw_;
};

Error flag_error(const char* key, const Error& e) {
  return make_error("-" + std::string(key) + ": " + e.message);
}

// Where connections come from and go to: listeners, mode, NAT46 prefix, backends, and the combinations
// snid ignores silently and we refuse.
Status read_routing(const GivenValues& given, ProxyConfig& c) {
  for (const auto& l : given.all("listen")) {
    auto spec = parse_listen(l);
    if (!spec) return flag_error("listen", spec.error());
    c.listen.push_back(*spec);
  }
  if (c.listen.empty())
    return make_error("at least one -listen is required (tcp:PORT, tcp:ADDR:PORT or fd:N)");

  if (auto m = given.one("mode")) {
    if (*m == "nat46")
      c.mode = Mode::nat46;
    else if (*m == "tcp")
      c.mode = Mode::tcp;
    else if (*m == "unix")
      c.mode = Mode::unix_socket;
    else
      return make_error("-mode: '" + log::bounded(*m, 40) + "' is not nat46, tcp or unix");
  }

  if (auto p = given.one("nat46-prefix")) {
    // snid writes the prefix as a bare address ("64:ff9b:1::"); a /96 is implied then.
    std::string text = *p;
    if (text.find('/') == std::string::npos) text += "/96";
    auto prefix = Ipv6Prefix::parse(text);
    if (!prefix) return flag_error("nat46-prefix", prefix.error());
    if (prefix->length() != 96)
      return make_error("-nat46-prefix: must be a /96 (got /" + std::to_string(prefix->length()) + ")");
    c.nat46_prefix = *prefix;
  }
  if (c.mode == Mode::nat46 && !c.nat46_prefix) return make_error("-mode nat46 needs -nat46-prefix (a /96)");
  if (c.mode != Mode::nat46 && c.nat46_prefix)
    return make_error("-nat46-prefix is only valid in -mode nat46");

  for (const auto& text : given.all("backend-cidr")) {
    if (text.find(':') != std::string::npos) {
      auto p = Ipv6Prefix::parse(text);
      if (!p) return flag_error("backend-cidr", p.error());
      c.backend_cidr6.push_back(*p);
    } else {
      auto p = Ipv4Prefix::parse(text);
      if (!p) return flag_error("backend-cidr", p.error());
      if (c.mode != Mode::tcp)
        return make_error("-backend-cidr " + text + ": IPv4 backends are only possible in -mode tcp");
      c.backend_cidr4.push_back(*p);
    }
  }
  if (c.mode != Mode::unix_socket && c.backend_cidr6.empty() && c.backend_cidr4.empty())
    return make_error("-mode " + std::string(to_string(c.mode)) +
                      " needs at least one -backend-cidr (without it nothing may be reached)");
  if (c.mode == Mode::unix_socket && !(c.backend_cidr6.empty() && c.backend_cidr4.empty()))
    return make_error("-backend-cidr is not used in -mode unix");

  if (auto p = given.one("backend-port")) {
    auto port = parse_uint<std::uint16_t>(*p, "-backend-port", 1, 65535);
    if (!port) return port.error();
    c.backend_port = *port;
  }
  if (auto h = given.one("default-hostname")) {
    auto name = canonical_hostname(*h);
    if (!name) return flag_error("default-hostname", name.error());
    c.default_hostname = *name;
  }
  if (auto p = given.one("proxy-proto")) {
    auto b = parse_bool(*p, "-proxy-proto");
    if (!b) return b.error();
    c.proxy_proto = *b;
  }
  if (c.proxy_proto && c.mode == Mode::nat46)
    return make_error(
        "-proxy-proto is not valid in -mode nat46 (the NAT46 source already carries the client)");
  if (auto d = given.one("unix-directory")) c.unix_directory = *d;
  if (c.mode == Mode::unix_socket && c.unix_directory.empty())
    return make_error("-mode unix needs -unix-directory");
  if (c.mode != Mode::unix_socket && !c.unix_directory.empty())
    return make_error("-unix-directory is only valid in -mode unix");
  if (c.mode == Mode::unix_socket && c.backend_port)
    return make_error("-backend-port is not used in -mode unix");
  return ok_status();
}

Status read_timers(const GivenValues& given, ProxyConfig& c) {
  struct DurationKey {
    const char* key;
    std::chrono::milliseconds* out;
    bool zero_ok;
  };
  for (auto [key, out, zero_ok] : {DurationKey{"hello-timeout", &c.hello_timeout, false},
                                   DurationKey{"connect-timeout", &c.connect_timeout, false},
                                   DurationKey{"idle-timeout", &c.idle_timeout, true},
                                   DurationKey{"drain-timeout", &c.drain_timeout, true},
                                   DurationKey{"access-log-flush", &c.access_log_flush, true}}) {
    if (auto v = given.one(key)) {
      auto d = parse_duration(*v);
      if (!d) return flag_error(key, d.error());
      if (d->count() == 0 && !zero_ok) return make_error("-" + std::string(key) + ": must be more than zero");
      *out = *d;
    }
  }
  auto keepalive =
      parse_keepalive(given.one("keepalive"), given.one("keepalive-interval"), given.one("keepalive-count"));
  if (!keepalive) return keepalive.error();
  c.dead_peer.keepalive = *keepalive;
  if (auto v = given.one("tcp-user-timeout")) {
    auto d = parse_duration(*v);
    if (!d) return flag_error("tcp-user-timeout", d.error());
    // Below a second it would end live connections over one lost segment; the kernel takes an int of ms.
    if (d->count() != 0 && (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24)))
      return make_error("-tcp-user-timeout: '" + log::bounded(*v, 40) + "' is not off or from 1s to 24h");
    c.dead_peer.user_timeout = *d;
  }
  return ok_status();
}

Status read_limits_and_logging(const GivenValues& given, ProxyConfig& c) {
  if (auto v = given.one("max-connections")) {
    auto n = parse_uint<std::size_t>(*v, "--max-connections", 1, 10'000'000);
    if (!n) return n.error();
    c.max_connections = *n;
  }
  if (auto v = given.one("max-connections-per-client")) {
    auto n = parse_uint<std::size_t>(*v, "--max-connections-per-client", 0, 10'000'000);
    if (!n) return n.error();
    c.max_connections_per_client = *n;
  }
  if (auto v = given.one("max-hello-bytes")) {
    auto n = parse_uint<std::size_t>(*v, "--max-hello-bytes", 512, 1 << 20);
    if (!n) return n.error();
    c.max_hello_bytes = *n;
  }
  if (auto v = given.one("workers")) {
    auto n = parse_uint<unsigned>(*v, "--workers", 1, 1024);
    if (!n) return n.error();
    c.workers = *n;
  }
  for (const auto& r : given.all("resolver")) {
    auto a = parse_resolver(r);
    if (!a) return flag_error("resolver", a.error());
    c.resolvers.push_back(*a);
  }
  if (auto v = given.one("log-level")) {
    if (auto l = log::parse_level(*v); !l) return flag_error("log-level", l.error());
    c.log_level = *v;
  }
  if (auto v = given.one("log-format")) {
    if (auto f = log::parse_format(*v); !f) return flag_error("log-format", f.error());
    c.log_format = *v;
  }
  if (auto v = given.one("control-socket")) c.control_socket = *v;
  return ok_status();
}

Result<ProxyConfig> build_config(const RawConfigValues& raw) {
  const GivenValues given(raw);
  ProxyConfig c;
  for (auto read : {read_routing, read_timers, read_limits_and_logging})
    if (Status s = read(given, c); !s) return s.error();
  return c;
}

constexpr const char* kEpilogue = R"(
sixgate-proxy status [--json] [--site NAME] [--control-socket PATH]
  ask the running proxy over its control socket: per site, the agent's prefixes, router sync state and last
  seen (exit 0 healthy, 1 unhealthy, 3 proxy unreachable); --site NAME shows that site alone and its exit
  code is that site's health (2 for a site the proxy does not know): a per-site health check

Failures (each logged on the connection's access-log line with a reason):
  no SNI and no -default-hostname, a name that is not a valid host name (IP literals too), NXDOMAIN or no
  AAAA, an address outside every -backend-cidr  -> TLS alert unrecognized_name, then close
  DNS server failure or timeout, backend refused, connect timeout  -> TLS alert internal_error, then close
  malformed or oversized ClientHello, hello timeout, unknown protocol  -> close without a reply
  (plain HTTP and PostgreSQL get a close instead of a TLS alert)
Signals: SIGTERM/SIGINT stop accepting and drain for --drain-timeout; SIGHUP reloads --config.
)";

Result<ProxyConfig> parse_impl(std::vector<std::string> args, const std::optional<std::string>& toml_text,
                               const std::string& toml_source) {
  CLI::App app{"sixgate-proxy: SNI/Host NAT46 proxy, a drop-in for snid", "sixgate-proxy"};
  app.footer(kEpilogue);
  std::map<std::string, CLI::Option*> options;
  std::map<std::string, std::vector<std::string>> cli_values;
  std::map<std::string, bool> cli_flags;
  for (const auto& k : kConfigKeys) {
    std::string name = std::string("--") + k.name;
    if (k.is_flag) {
      options[k.name] = app.add_flag(name, cli_flags[k.name], k.help);
    } else {
      auto* opt = app.add_option(name, cli_values[k.name], k.help);
      if (!k.multi) opt->expected(1);
      options[k.name] = opt;
    }
  }
  std::string config_file;
  auto* config_opt = app.add_option("--config", config_file, "TOML file with the same keys (flags win)");
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");

  auto normalised = normalise_dashes(std::move(args));
  std::reverse(normalised.begin(), normalised.end());  // CLI11 parses a vector from the back
  try {
    app.parse(normalised);
  } catch (const CLI::CallForHelp&) {
    ProxyConfig c;
    c.action = ProxyConfig::Action::help;
    c.help_text = app.help();
    return c;
  } catch (const CLI::ParseError& e) {
    return make_error(e.what());
  }
  if (version) {
    ProxyConfig c;
    c.action = ProxyConfig::Action::version;
    return c;
  }

  RawConfigValues raw;
  std::optional<ChannelConfig> channel;
  std::optional<std::string> file_name;
  if (config_opt->count() > 0 || toml_text) {
    std::string text;
    std::string source = toml_source;
    if (toml_text) {
      text = *toml_text;
    } else {
      std::ifstream in(config_file, std::ios::binary);
      if (!in) return make_error("--config " + config_file + ": cannot be read");
      std::ostringstream s;
      s << in.rdbuf();
      text = s.str();
      source = config_file;
    }
    auto file = parse_config_file(text, source);
    if (!file) return file.error();
    raw = std::move(file->raw);
    channel = std::move(file->channel);
    if (config_opt->count() > 0) file_name = config_file;
  }
  for (const auto& k : kConfigKeys) {
    auto* opt = options[k.name];
    if (opt->count() == 0) continue;
    if (k.is_flag)
      raw[k.name] = {cli_flags[k.name] ? "true" : "false"};
    else
      raw[k.name] = cli_values[k.name];
  }
  auto c = build_config(raw);
  if (!c) return c;
  c.value().channel = std::move(channel);
  c.value().config_file = file_name;
  return c;
}

}  // namespace

std::string_view to_string(Mode m) {
  switch (m) {
    case Mode::nat46:
      return "nat46";
    case Mode::tcp:
      return "tcp";
    case Mode::unix_socket:
      return "unix";
  }
  return "?";
}

Result<ProxyConfig> parse_proxy_args(std::vector<std::string> args) {
  return parse_impl(std::move(args), std::nullopt, "");
}

Result<ProxyConfig> parse_proxy_args(std::vector<std::string> args, const std::string& toml_text,
                                     const std::string& source) {
  return parse_impl(std::move(args), toml_text, source);
}

}  // namespace sixgate::proxy