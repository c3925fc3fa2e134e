#include "proxy/config.hpp"

#include <toml++/toml.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/log.hpp"
#include "proxy/core/hostname.hpp"

namespace sixgate::proxy {
namespace {

// Every key that may appear both as a flag and in the TOML file.
struct Key {
  const char* name;
  bool multi;
  bool is_flag;
  const char* help;
};
constexpr Key kKeys[] = {
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

using RawValues = std::map<std::string, std::vector<std::string>>;

const Key* find_key(std::string_view name) {
  for (const auto& k : kKeys)
    if (name == k.name) return &k;
  return nullptr;
}

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

Result<std::string> toml_scalar(const toml::node& node, const std::string& where) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_boolean()) return std::string(*node.value<bool>() ? "true" : "false");
  return make_error(where + ": expected a string, integer or boolean");
}

Result<ChannelConfig> parse_channel(const toml::table& t, const std::string& source) {
  ChannelConfig c;
  for (auto&& [k, node] : t) {
    std::string key(k.str());
    std::string where = source + ": channel." + key;
    if (key == "listen") {
      auto* arr = node.as_array();
      if (!arr) return make_error(where + ": expected an array of strings");
      for (auto& e : *arr) {
        auto s = e.value<std::string>();
        if (!s || !e.is_string()) return make_error(where + ": expected an array of strings");
        c.listen.push_back(*s);
      }
    } else if (key == "site") {
      auto* arr = node.as_array();
      if (!arr) return make_error(where + ": expected [[channel.site]] tables");
      for (auto& e : *arr) {
        auto* st = e.as_table();
        if (!st) return make_error(where + ": expected [[channel.site]] tables");
        ChannelSiteConfig site;
        bool have_prefix = false;
        for (auto&& [sk, sn] : *st) {
          std::string skey(sk.str());
          std::string swhere = where + "." + skey;
          auto sv = sn.value<std::string>();
          if (!sv || !sn.is_string()) return make_error(swhere + ": expected a string");
          if (skey == "name") {
            site.name = *sv;
          } else if (skey == "key_file") {
            site.key_file = *sv;
          } else if (skey == "gateway") {
            site.gateway = *sv;
          } else if (skey == "routed_prefix") {
            auto p = Ipv6Prefix::parse(*sv);
            if (!p) return make_error(swhere + ": " + p.error().message);
            site.routed_prefix = *p;
            have_prefix = true;
          } else {
            return make_error(swhere + ": unknown key");
          }
        }
        if (site.name.empty()) return make_error(where + ": a site needs a name");
        if (site.key_file.empty()) return make_error(where + " '" + site.name + "': key_file is required");
        if (!have_prefix) return make_error(where + " '" + site.name + "': routed_prefix is required");
        c.sites.push_back(std::move(site));
      }
    } else {
      return make_error(where + ": unknown key");
    }
  }
  return c;
}

struct FileValues {
  RawValues raw;
  std::optional<ChannelConfig> channel;
};

Result<FileValues> parse_toml(const std::string& text, const std::string& source) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << source << ":" << e.source().begin.line << ": " << e.description();
    return make_error(m.str());
  }
  FileValues out;
  for (auto&& [k, node] : table) {
    std::string key(k.str());
    std::string where = source + ": " + key;
    if (key == "channel") {
      auto* t = node.as_table();
      if (!t) return make_error(where + ": expected a [channel] table");
      auto c = parse_channel(*t, source);
      if (!c) return c.error();
      out.channel = std::move(*c);
      continue;
    }
    const Key* known = find_key(key);
    if (!known) return make_error(where + ": unknown key");
    std::vector<std::string> values;
    if (auto* arr = node.as_array()) {
      if (!known->multi) return make_error(where + ": takes one value, not an array");
      for (auto& e : *arr) {
        auto s = toml_scalar(e, where);
        if (!s) return s.error();
        values.push_back(*s);
      }
    } else {
      auto s = toml_scalar(node, where);
      if (!s) return s.error();
      values.push_back(*s);
    }
    out.raw[key] = std::move(values);
  }
  return out;
}

template <class Int>
Result<Int> parse_uint(std::string_view text, std::string_view what, Int min, Int max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() ||
      v < static_cast<std::uint64_t>(min) || v > static_cast<std::uint64_t>(max))
    return make_error(std::string(what) + ": '" + log::bounded(text, 40) + "' is not a number from " +
                      std::to_string(min) + " to " + std::to_string(max));
  return static_cast<Int>(v);
}

Result<bool> parse_bool(std::string_view text, std::string_view what) {
  if (text == "true" || text == "1" || text.empty()) return true;
  if (text == "false" || text == "0") return false;
  return make_error(std::string(what) + ": '" + log::bounded(text, 40) + "' is not true or false");
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

Result<ProxyConfig> build_config(const RawValues& raw) {
  ProxyConfig c;
  auto one = [&](const char* key) -> const std::string* {
    auto it = raw.find(key);
    if (it == raw.end() || it->second.empty()) return nullptr;
    return &it->second.back();
  };
  auto all = [&](const char* key) -> std::vector<std::string> {
    auto it = raw.find(key);
    return it == raw.end() ? std::vector<std::string>{} : it->second;
  };
  auto flag_error = [](const char* key, const Error& e) {
    return make_error("-" + std::string(key) + ": " + e.message);
  };

  for (const auto& l : all("listen")) {
    auto spec = parse_listen(l);
    if (!spec) return flag_error("listen", spec.error());
    c.listen.push_back(*spec);
  }
  if (c.listen.empty())
    return make_error("at least one -listen is required (tcp:PORT, tcp:ADDR:PORT or fd:N)");

  if (auto m = one("mode")) {
    if (*m == "nat46")
      c.mode = Mode::nat46;
    else if (*m == "tcp")
      c.mode = Mode::tcp;
    else if (*m == "unix")
      c.mode = Mode::unix_socket;
    else
      return make_error("-mode: '" + log::bounded(*m, 40) + "' is not nat46, tcp or unix");
  }

  if (auto p = one("nat46-prefix")) {
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

  for (const auto& text : all("backend-cidr")) {
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

  if (auto p = one("backend-port")) {
    auto port = parse_uint<std::uint16_t>(*p, "-backend-port", 1, 65535);
    if (!port) return port.error();
    c.backend_port = *port;
  }
  if (auto h = one("default-hostname")) {
    auto name = canonical_hostname(*h);
    if (!name) return flag_error("default-hostname", name.error());
    c.default_hostname = *name;
  }
  if (auto p = one("proxy-proto")) {
    auto b = parse_bool(*p, "-proxy-proto");
    if (!b) return b.error();
    c.proxy_proto = *b;
  }
  if (c.proxy_proto && c.mode == Mode::nat46)
    return make_error(
        "-proxy-proto is not valid in -mode nat46 (the NAT46 source already carries the client)");
  if (auto d = one("unix-directory")) c.unix_directory = *d;
  if (c.mode == Mode::unix_socket && c.unix_directory.empty())
    return make_error("-mode unix needs -unix-directory");
  if (c.mode != Mode::unix_socket && !c.unix_directory.empty())
    return make_error("-unix-directory is only valid in -mode unix");
  if (c.mode == Mode::unix_socket && c.backend_port)
    return make_error("-backend-port is not used in -mode unix");

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
    if (auto v = one(key)) {
      auto d = parse_duration(*v);
      if (!d) return flag_error(key, d.error());
      if (d->count() == 0 && !zero_ok) return make_error("-" + std::string(key) + ": must be more than zero");
      *out = *d;
    }
  }
  auto keepalive = parse_keepalive(one("keepalive"), one("keepalive-interval"), one("keepalive-count"));
  if (!keepalive) return keepalive.error();
  c.dead_peer.keepalive = *keepalive;
  if (auto v = one("tcp-user-timeout")) {
    auto d = parse_duration(*v);
    if (!d) return flag_error("tcp-user-timeout", d.error());
    // Below a second it would end live connections over one lost segment; the kernel takes an int of ms.
    if (d->count() != 0 && (*d < std::chrono::seconds(1) || *d > std::chrono::hours(24)))
      return make_error("-tcp-user-timeout: '" + log::bounded(*v, 40) + "' is not off or from 1s to 24h");
    c.dead_peer.user_timeout = *d;
  }
  if (auto v = one("max-connections")) {
    auto n = parse_uint<std::size_t>(*v, "--max-connections", 1, 10'000'000);
    if (!n) return n.error();
    c.max_connections = *n;
  }
  if (auto v = one("max-connections-per-client")) {
    auto n = parse_uint<std::size_t>(*v, "--max-connections-per-client", 0, 10'000'000);
    if (!n) return n.error();
    c.max_connections_per_client = *n;
  }
  if (auto v = one("max-hello-bytes")) {
    auto n = parse_uint<std::size_t>(*v, "--max-hello-bytes", 512, 1 << 20);
    if (!n) return n.error();
    c.max_hello_bytes = *n;
  }
  if (auto v = one("workers")) {
    auto n = parse_uint<unsigned>(*v, "--workers", 1, 1024);
    if (!n) return n.error();
    c.workers = *n;
  }
  for (const auto& r : all("resolver")) {
    auto a = parse_resolver(r);
    if (!a) return flag_error("resolver", a.error());
    c.resolvers.push_back(*a);
  }
  if (auto v = one("log-level")) {
    if (auto l = log::parse_level(*v); !l) return flag_error("log-level", l.error());
    c.log_level = *v;
  }
  if (auto v = one("log-format")) {
    if (auto f = log::parse_format(*v); !f) return flag_error("log-format", f.error());
    c.log_format = *v;
  }
  if (auto v = one("control-socket")) c.control_socket = *v;
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
  for (const auto& k : kKeys) {
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

  RawValues raw;
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
    auto file = parse_toml(text, source);
    if (!file) return file.error();
    raw = std::move(file->raw);
    channel = std::move(file->channel);
    if (config_opt->count() > 0) file_name = config_file;
  }
  for (const auto& k : kKeys) {
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

Result<ListenSpec> parse_listen(std::string_view text) {
  ListenSpec s;
  s.text = std::string(text);
  auto bad = [&](const std::string& why) {
    return make_error("'" + log::bounded(text, 80) + "': " + why + " (want tcp:PORT, tcp:ADDR:PORT or fd:N)");
  };
  if (text.starts_with("fd:")) {
    auto n = parse_uint<int>(text.substr(3), "fd", 0, 1 << 20);
    if (!n) return bad("bad descriptor number");
    s.kind = ListenSpec::Kind::fd;
    s.fd = *n;
    return s;
  }
  if (!text.starts_with("tcp:")) return bad("unknown kind");
  std::string_view rest = text.substr(4);
  std::string_view port_text = rest;
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    if (host.find(':') != std::string_view::npos) {
      if (!Ipv6Address::parse(host)) return bad("bad IPv6 address");
    } else if (!host.empty()) {
      if (!Ipv4Address::parse(host)) return bad("bad IPv4 address");
    }
    s.address = std::string(host);
  }
  auto port = parse_uint<std::uint16_t>(port_text, "port", 1, 65535);
  if (!port) return bad("bad port");
  s.port = *port;
  return s;
}

std::string ResolverAddress::to_ares() const {
  return v6 ? "[" + host + "]:" + std::to_string(port) : host + ":" + std::to_string(port);
}

Result<ResolverAddress> parse_resolver(std::string_view text) {
  ResolverAddress r;
  auto bad = [&](const std::string& why) {
    return make_error("'" + log::bounded(text, 80) + "': " + why + " (want IP, IP:PORT or [IPv6]:PORT)");
  };
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ]");
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return bad("junk after ]");
      port = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.find(':') != std::string_view::npos) {
    if (!Ipv6Address::parse(host)) return bad("bad IPv6 address");
    r.v6 = true;
  } else if (!Ipv4Address::parse(host)) {
    return bad("bad IPv4 address");
  }
  r.host = std::string(host);
  if (port) {
    auto p = parse_uint<std::uint16_t>(*port, "port", 1, 65535);
    if (!p) return bad("bad port");
    r.port = *p;
  }
  return r;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  using namespace std::chrono;
  if (text == "off") return milliseconds(0);
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data())
    return make_error("'" + log::bounded(text, 40) + "' is not a duration (e.g. 10s, 500ms, 2m)");
  std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "ms")
    factor = 1;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return make_error("'" + log::bounded(text, 40) + "': unknown unit (want ms, s, m or h)");
  if (n > 24ull * 3'600'000 / factor)
    return make_error("'" + log::bounded(text, 40) + "' is longer than a day");
  return milliseconds(static_cast<std::int64_t>(n * factor));
}

Result<ProxyConfig> parse_proxy_args(std::vector<std::string> args) {
  return parse_impl(std::move(args), std::nullopt, "");
}

namespace {
// Batching is chosen when logging is set up; a reload can change the interval but not switch it on or off.
bool switches_access_log_batching(const ProxyConfig& running, const ProxyConfig& next) {
  return (next.access_log_flush.count() == 0) != (running.access_log_flush.count() == 0);
}
}  // namespace

bool same_resolvers(const std::vector<ResolverAddress>& a, const std::vector<ResolverAddress>& b) {
  return std::ranges::equal(a, b, {}, &ResolverAddress::to_ares, &ResolverAddress::to_ares);
}

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

Result<ProxyConfig> parse_proxy_args(std::vector<std::string> args, const std::string& toml_text,
                                     const std::string& source) {
  return parse_impl(std::move(args), toml_text, source);
}

}  // namespace sixgate::proxy
