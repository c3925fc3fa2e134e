#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "proxy/config.hpp"
#include "proxy/config_reload.hpp"

using namespace sixgate;
using namespace sixgate::proxy;

namespace {
std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}
// A minimal valid NAT46 command line, and that line with `extra` flags after it.
const std::vector<std::string> minimal_nat46_args{"-listen",     "tcp:443",       "-nat46-prefix",
                                                  "64:ff9b:1::", "-backend-cidr", "2001:db8:1::/64"};
Result<ProxyConfig> with(const std::vector<std::string>& extra) {
  auto args = minimal_nat46_args;
  args.insert(args.end(), extra.begin(), extra.end());
  return parse_proxy_args(args);
}
std::string error_of(const std::string& line) {
  auto r = parse_proxy_args(split(line));
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}
}  // namespace

TEST_CASE("the snid unit line from the homelab write-up parses unchanged") {
  // ExecStart of /etc/systemd/system/snid.service, with the redacted prefix filled in.
  auto r = parse_proxy_args(
      split("-listen tcp:443 -listen tcp:8006 -listen tcp:5432 -mode nat46 -nat46-prefix 64:ff9b:1:: "
            "-backend-cidr 2a01:4f8:1234:5678:1::/80"));
  REQUIRE(r.ok());
  const auto& c = *r;
  REQUIRE(c.listen.size() == 3);
  CHECK(c.listen[0].port == 443);
  CHECK(c.listen[1].port == 8006);
  CHECK(c.listen[2].port == 5432);
  CHECK(c.listen[0].address.empty());
  CHECK(c.mode == Mode::nat46);
  REQUIRE(c.nat46_prefix);
  CHECK(c.nat46_prefix->to_string() == "64:ff9b:1::/96");
  REQUIRE(c.backend_cidr6.size() == 1);
  CHECK(c.backend_cidr6[0].to_string() == "2a01:4f8:1234:5678:1::/80");
  CHECK(c.hello_timeout == std::chrono::seconds(10));
  CHECK(c.idle_timeout.count() == 0);
  CHECK_FALSE(c.proxy_proto);
}

TEST_CASE("double-dash and = spellings are the same flags") {
  auto r = parse_proxy_args({"--listen=tcp:192.0.2.1:443",
                             "-listen",
                             "tcp:[2001:db8::1]:8443",
                             "--mode",
                             "tcp",
                             "-backend-cidr=2001:db8::/32",
                             "--backend-cidr",
                             "192.0.2.0/24",
                             "-backend-port",
                             "8443",
                             "-default-hostname",
                             "WWW.Example.Org.",
                             "-proxy-proto",
                             "--hello-timeout",
                             "2s",
                             "--idle-timeout",
                             "5m",
                             "--workers",
                             "3",
                             "--resolver",
                             "127.0.0.1:5353",
                             "--resolver",
                             "[2001:db8::53]:53",
                             "--max-connections",
                             "100"});
  REQUIRE(r.ok());
  CHECK(r->listen[0].address == "192.0.2.1");
  CHECK(r->listen[1].address == "2001:db8::1");
  CHECK(r->listen[1].port == 8443);
  CHECK(r->mode == Mode::tcp);
  CHECK(r->backend_cidr6.size() == 1);
  CHECK(r->backend_cidr4.size() == 1);
  CHECK(r->backend_port == 8443);
  CHECK(r->default_hostname == "www.example.org");
  CHECK(r->proxy_proto);
  CHECK(r->hello_timeout == std::chrono::seconds(2));
  CHECK(r->idle_timeout == std::chrono::minutes(5));
  CHECK(r->workers == 3);
  REQUIRE(r->resolvers.size() == 2);
  CHECK(r->resolvers[0].to_ares() == "127.0.0.1:5353");
  CHECK(r->resolvers[1].to_ares() == "[2001:db8::53]:53");
  CHECK(r->max_connections == 100);
}

TEST_CASE("fd listeners for socket activation") {
  auto r = parse_proxy_args(
      split("-listen fd:3 -listen fd:4 -nat46-prefix 64:ff9b:1::/96 -backend-cidr 2001:db8::/32"));
  REQUIRE(r.ok());
  CHECK(r->listen[0].kind == ListenSpec::Kind::fd);
  CHECK(r->listen[1].fd == 4);
}

TEST_CASE("invalid combinations are errors that name the problem") {
  const std::string ok_tail = " -backend-cidr 2001:db8::/32";
  CHECK_THAT(error_of("-listen tcp:443 -mode nat46" + ok_tail), Catch::Contains("-nat46-prefix"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1::/64" + ok_tail), Catch::Contains("/96"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1:: -proxy-proto" + ok_tail),
             Catch::Contains("-proxy-proto"));
  CHECK_THAT(error_of("-listen tcp:443 -mode tcp -unix-directory /run/x" + ok_tail),
             Catch::Contains("-unix-directory"));
  CHECK_THAT(error_of("-listen tcp:443 -mode tcp"), Catch::Contains("-backend-cidr"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1::"), Catch::Contains("-backend-cidr"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1:: -backend-cidr 192.0.2.0/24"),
             Catch::Contains("IPv4"));
  CHECK_THAT(error_of("-listen tcp:443 -mode unix"), Catch::Contains("-unix-directory"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1:: -bogus-flag 1" + ok_tail),
             Catch::Contains("bogus"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:zz:: " + ok_tail),
             Catch::Contains("nat46-prefix"));
  CHECK_THAT(error_of("-listen udp:443 -nat46-prefix 64:ff9b:1::" + ok_tail), Catch::Contains("listen"));
  CHECK_THAT(error_of("-listen tcp:1.2.3:443 -nat46-prefix 64:ff9b:1::" + ok_tail),
             Catch::Contains("listen"));
  CHECK_THAT(error_of("-listen tcp:70000 -nat46-prefix 64:ff9b:1::" + ok_tail), Catch::Contains("port"));
  CHECK_THAT(error_of("-nat46-prefix 64:ff9b:1::" + ok_tail), Catch::Contains("-listen"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1:: --hello-timeout 0" + ok_tail),
             Catch::Contains("hello-timeout"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1:: --resolver 1.2.3.4.5" + ok_tail),
             Catch::Contains("resolver"));
  CHECK_THAT(error_of("-listen tcp:443 -nat46-prefix 64:ff9b:1:: -default-hostname a/b" + ok_tail),
             Catch::Contains("default-hostname"));
}

TEST_CASE("help and version are actions, not errors") {
  auto h = parse_proxy_args({"-help"});
  REQUIRE(h.ok());
  CHECK(h->action == ProxyConfig::Action::help);
  CHECK_THAT(h->help_text, Catch::Contains("--nat46-prefix"));
  CHECK_THAT(h->help_text, Catch::Contains("unrecognized_name"));
  auto v = parse_proxy_args({"--version"});
  REQUIRE(v.ok());
  CHECK(v->action == ProxyConfig::Action::version);
}

TEST_CASE("a TOML file supplies the same keys and flags override it") {
  const std::string toml = R"(
listen = ["tcp:443", "tcp:5432"]
mode = "nat46"
nat46-prefix = "64:ff9b:1::/96"
backend-cidr = ["2001:db8:1::/64"]
hello-timeout = "3s"
connect-timeout = 4
default-hostname = "app.test"
control-socket = "/tmp/x.sock"

[channel]
listen = ["[fe80::1%wg0]:7443"]

[[channel.site]]
name = "home"
key_file = "/etc/sixgate/home.key"
routed_prefix = "2001:db8:1::/64"
gateway = "fe80::2%wg0"
)";
  auto r = parse_proxy_args({"--hello-timeout", "7s"}, toml, "test.toml");
  REQUIRE(r.ok());
  CHECK(r->listen.size() == 2);
  CHECK(r->hello_timeout == std::chrono::seconds(7));
  CHECK(r->connect_timeout == std::chrono::seconds(4));
  CHECK(r->default_hostname == "app.test");
  CHECK(r->control_socket == "/tmp/x.sock");
  REQUIRE(r->channel);
  CHECK(r->channel->listen == std::vector<std::string>{"[fe80::1%wg0]:7443"});
  REQUIRE(r->channel->sites.size() == 1);
  CHECK(r->channel->sites[0].name == "home");
  CHECK(r->channel->sites[0].routed_prefix.to_string() == "2001:db8:1::/64");
  CHECK(r->channel->sites[0].gateway == "fe80::2%wg0");

  auto bad = parse_proxy_args({}, "listen = [\"tcp:443\"]\nfrobnicate = 1\n", "bad.toml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("bad.toml: frobnicate"));
  auto syntax = parse_proxy_args({}, "listen = [\n", "broken.toml");
  REQUIRE_FALSE(syntax.ok());
  CHECK_THAT(syntax.error().message, Catch::Contains("broken.toml"));
}

TEST_CASE("durations") {
  CHECK(*parse_duration("500ms") == std::chrono::milliseconds(500));
  CHECK(*parse_duration("10") == std::chrono::seconds(10));
  CHECK(*parse_duration("off") == std::chrono::milliseconds(0));
  CHECK_FALSE(parse_duration("10x").ok());
  CHECK_FALSE(parse_duration("").ok());
  CHECK_FALSE(parse_duration("-1s").ok());
}

TEST_CASE("a reload that changes listen, mode or nat46-prefix is refused, and restart-only keys are named") {
  // The command line of a running proxy whose listeners, mode and prefix come from its file.
  const std::vector<std::string> args{"--resolver", "127.0.0.1"};
  const std::string base =
      "listen = [\"tcp:443\"]\nnat46-prefix = \"64:ff9b:1::\"\n"
      "backend-cidr = [\"2001:db8:1::/64\"]\n";
  auto running = parse_proxy_args(args, base, "a.toml");
  REQUIRE(running.ok());

  auto same = parse_proxy_args(args, base + "connect-timeout = \"2s\"\n", "a.toml");
  REQUIRE(same.ok());
  auto none = reload_differences(*running, *same);
  CHECK(none.refused.empty());
  CHECK(none.need_restart.empty());

  auto unix_mode = parse_proxy_args(
      args, "listen = [\"tcp:443\", \"tcp:8443\"]\nmode = \"unix\"\nunix-directory = \"/run/s\"\n", "a.toml");
  REQUIRE(unix_mode.ok());
  CHECK(reload_differences(*running, *unix_mode).refused ==
        std::vector<std::string>{"listen", "mode", "nat46-prefix"});

  auto other_prefix = parse_proxy_args(
      args, "listen = [\"tcp:443\"]\nnat46-prefix = \"64:ff9b:2::\"\nbackend-cidr = [\"2001:db8:1::/64\"]\n",
      "a.toml");
  REQUIRE(other_prefix.ok());
  CHECK(reload_differences(*running, *other_prefix).refused == std::vector<std::string>{"nat46-prefix"});

  auto restart_only = parse_proxy_args(args,
                                       base +
                                           "log-level = \"debug\"\nworkers = 3\ncontrol-socket = \"/tmp/c\"\n"
                                           "[channel]\nlisten = [\"[fe80::1%wg0]:7443\"]\n",
                                       "a.toml");
  REQUIRE(restart_only.ok());
  auto d = reload_differences(*running, *restart_only);
  CHECK(d.refused.empty());
  CHECK(d.need_restart == std::vector<std::string>{"log-level", "workers", "control-socket", "channel"});
  ProxyConfig applied = *restart_only;
  keep_restart_only_values(*running, applied);
  CHECK(reload_differences(*running, applied).need_restart.empty());
  CHECK(applied.backend_cidr6 == running->backend_cidr6);
}

TEST_CASE(
    "access-log-flush: 1s by default, 0 writes each line; switching batching on or off needs a restart") {
  auto batched = with({});
  REQUIRE(batched.ok());
  CHECK(batched->access_log_flush == std::chrono::seconds(1));
  auto each = with({"--access-log-flush", "0"});
  REQUIRE(each.ok());
  CHECK(each->access_log_flush.count() == 0);
  auto bad = with({"--access-log-flush", "soon"});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("access-log-flush"));

  auto slower = with({"--access-log-flush", "250ms"});
  REQUIRE(slower.ok());
  CHECK(reload_differences(*batched, *slower).need_restart.empty());  // a new interval applies
  CHECK(reload_differences(*batched, *each).need_restart == std::vector<std::string>{"access-log-flush"});
  ProxyConfig applied = *each;
  keep_restart_only_values(*batched, applied);
  CHECK(applied.access_log_flush == std::chrono::seconds(1));
}

TEST_CASE("keepalive: snid's 15 s / 15 s / 9 probes by default, settable, off, and bounded as Linux is") {
  auto defaults = with({});
  REQUIRE(defaults.ok());
  REQUIRE(defaults->dead_peer.keepalive);
  CHECK(defaults->dead_peer.keepalive->idle == std::chrono::seconds(15));
  CHECK(defaults->dead_peer.keepalive->interval == std::chrono::seconds(15));
  CHECK(defaults->dead_peer.keepalive->probes == 9);

  auto set = with({"--keepalive", "2m", "-keepalive-interval", "10", "--keepalive-count=3"});
  REQUIRE(set.ok());
  REQUIRE(set->dead_peer.keepalive);
  CHECK(set->dead_peer.keepalive->idle == std::chrono::minutes(2));
  CHECK(set->dead_peer.keepalive->interval == std::chrono::seconds(10));
  CHECK(set->dead_peer.keepalive->probes == 3);

  for (const char* off : {"off", "0"}) {
    auto r = with({"--keepalive", off});
    REQUIRE(r.ok());
    CHECK_FALSE(r->dead_peer.keepalive);
  }
  auto from_file = parse_proxy_args(minimal_nat46_args, "keepalive = \"off\"\n", "k.toml");
  REQUIRE(from_file.ok());
  CHECK_FALSE(from_file->dead_peer.keepalive);
  auto count_from_file = parse_proxy_args(minimal_nat46_args, "keepalive-count = 5\n", "k.toml");
  REQUIRE(count_from_file.ok());
  CHECK(count_from_file->dead_peer.keepalive->probes == 5);

  auto error = [&](std::vector<std::string> extra) {
    auto r = with(std::move(extra));
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK_THAT(error({"--keepalive", "500ms"}), Catch::Contains("-keepalive: '500ms' is not a whole number"));
  CHECK_THAT(error({"--keepalive", "1500ms"}), Catch::Contains("whole number of seconds"));
  CHECK_THAT(error({"--keepalive", "10h"}), Catch::Contains("32767s"));
  CHECK_THAT(error({"--keepalive", "soon"}), Catch::Contains("-keepalive:"));
  CHECK_THAT(error({"--keepalive-interval", "0"}), Catch::Contains("-keepalive-interval"));
  CHECK_THAT(error({"--keepalive-count", "0"}), Catch::Contains("-keepalive-count"));
  CHECK_THAT(error({"--keepalive-count", "128"}), Catch::Contains("1 to 127"));
  CHECK_THAT(error({"--keepalive", "off", "--keepalive-count", "3"}),
             Catch::Contains("-keepalive-count is not used with -keepalive off"));
  CHECK_THAT(error({"--keepalive", "off", "--keepalive-interval", "3s"}),
             Catch::Contains("-keepalive-interval is not used with -keepalive off"));

  // A reload applies a change: the listeners take it for the connections accepted after it.
  auto off = with({"--keepalive", "off"});
  const auto differences = reload_differences(*defaults, *off);
  CHECK(differences.refused.empty());
  CHECK(differences.need_restart.empty());
}

TEST_CASE("tcp-user-timeout: off by default, from 1s to 24h, off again with 0 or off, applied by a reload") {
  auto defaults = with({});
  REQUIRE(defaults.ok());
  CHECK(defaults->dead_peer.user_timeout.count() == 0);
  auto set = with({"--tcp-user-timeout", "90s"});
  REQUIRE(set.ok());
  CHECK(set->dead_peer.user_timeout == std::chrono::seconds(90));
  CHECK(set->dead_peer.keepalive);  // independent of keepalive
  auto from_file = parse_proxy_args(minimal_nat46_args, "tcp-user-timeout = \"2500ms\"\n", "u.toml");
  REQUIRE(from_file.ok());
  CHECK(from_file->dead_peer.user_timeout == std::chrono::milliseconds(2500));
  for (const char* off : {"off", "0"}) {
    auto r = with({"-tcp-user-timeout", off});
    REQUIRE(r.ok());
    CHECK(r->dead_peer.user_timeout.count() == 0);
  }
  for (const char* bad : {"500ms", "25h", "soon"}) {
    auto r = with({"--tcp-user-timeout", bad});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("-tcp-user-timeout"));
  }
  const auto differences = reload_differences(*defaults, *set);
  CHECK(differences.refused.empty());
  CHECK(differences.need_restart.empty());
  CHECK(differences.applied == std::vector<std::string>{"tcp-user-timeout"});
}

TEST_CASE(
    "a reload names the keys it applies: each changed one, in --help order, and none when nothing did") {
  auto running = with({});
  REQUIRE(running.ok());
  CHECK(reload_differences(*running, *running).applied.empty());
  auto next = with({"--backend-port", "8443", "--idle-timeout", "5m", "--keepalive-count", "3",
                    "--max-connections", "100", "--resolver", "192.0.2.53", "--access-log-flush", "2s",
                    "--default-hostname", "app.test", "--hello-timeout", "3s"});
  REQUIRE(next.ok());
  const auto d = reload_differences(*running, *next);
  CHECK(d.applied == std::vector<std::string>{"backend-port", "default-hostname", "hello-timeout",
                                              "idle-timeout", "keepalive", "max-connections", "resolver",
                                              "access-log-flush"});
  CHECK(d.need_restart.empty());
  // Switched off, the batching needs a restart: named there, not among the applied keys.
  auto unbatched = with({"--access-log-flush", "0"});
  REQUIRE(unbatched.ok());
  const auto off = reload_differences(*running, *unbatched);
  CHECK(off.applied.empty());
  CHECK(off.need_restart == std::vector<std::string>{"access-log-flush"});
}

TEST_CASE("max-connections-per-client: off by default, a number otherwise") {
  auto defaults = with({});
  REQUIRE(defaults.ok());
  CHECK(defaults->max_connections_per_client == 0);
  auto set = with({"--max-connections-per-client", "64"});
  REQUIRE(set.ok());
  CHECK(set->max_connections_per_client == 64);
  auto bad = with({"-max-connections-per-client", "many"});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("--max-connections-per-client: 'many' is not a number"));
  CHECK(reload_differences(*defaults, *set).need_restart.empty());  // applies to connections accepted after
}

TEST_CASE("the example config in deploy/ parses, with its commented-out examples too") {
  std::string here = __FILE__;  // <source>/tests/proxy/config_test.cpp
  const std::string path = here.substr(0, here.rfind("/tests/proxy/")) + "/deploy/proxy.example.toml";
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();

  auto as_shipped = parse_proxy_args({}, text.str(), path);
  if (!as_shipped.ok()) FAIL(as_shipped.error().message);
  const ProxyConfig& c = *as_shipped;
  CHECK(c.listen.size() == 3);
  CHECK(c.mode == Mode::nat46);
  REQUIRE(c.nat46_prefix);
  CHECK(c.nat46_prefix->to_string() == "64:ff9b:1::/96");
  CHECK(c.backend_cidr6.size() == 1);
  CHECK(c.idle_timeout.count() == 0);
  CHECK(c.access_log_flush == std::chrono::seconds(1));
  CHECK_FALSE(c.channel.has_value());

  // Every "# key = value" line and the [channel] block switched on (unix-directory belongs to unix mode).
  std::string all =
      std::regex_replace(text.str(), std::regex("^# (?=[a-z_-]+ = |\\[)", std::regex::multiline), "");
  all = std::regex_replace(all, std::regex("^unix-directory.*$", std::regex::multiline), "");
  auto everything = parse_proxy_args({}, all, path);
  if (!everything.ok()) FAIL(everything.error().message);
  CHECK(everything->backend_port == 443);
  CHECK(everything->default_hostname == "www.example.org");
  CHECK(everything->workers == 2);
  CHECK(everything->max_connections_per_client == 256);
  CHECK(everything->resolvers.size() == 1);
  REQUIRE(everything->channel.has_value());
  REQUIRE(everything->channel->sites.size() == 1);
  CHECK(everything->channel->sites[0].name == "home");
}
