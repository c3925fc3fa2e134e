#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/control/format.hpp"
#include "common/control/server.hpp"
#include "common/control/status_cli.hpp"

using namespace sixgate::control;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sgch-cli-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
};

int run(const std::vector<std::string>& args, bool with_sites = false) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  StatusCommand cmd{"sixgate-test", "/nonexistent/sgch.sock",
                    [](const nlohmann::json& s) { return s.dump() + "\n"; },
                    with_sites ? proxy_status_for_site : decltype(StatusCommand::select_site){}};
  return run_status_command(cmd, static_cast<int>(argv.size()), argv.data());
}

nlohmann::json two_sites(const std::string& friend_health) {
  return {
      {"healthy", friend_health == "ok"},
      {"channel",
       {{"healthy", friend_health == "ok"},
        {"sites", {{{"name", "home"}, {"health", "ok"}}, {{"name", "friend"}, {"health", friend_health}}}}}}};
}

}  // namespace

TEST_CASE("status cli: exit 0 healthy, 1 unhealthy, 3 unreachable, 2 usage") {
  TempDir dir;
  const std::string path = dir.path + "/d.sock";
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::atomic<bool> healthy{true};
  auto server = ControlServer::start(io, path, status_only_handler([&] {
                                       return nlohmann::json{{"healthy", healthy.load()}};
                                     }));
  REQUIRE(server.ok());
  std::thread t([&] { io.run(); });

  CHECK(run({"--control-socket", path}) == kExitHealthy);
  CHECK(run({"--json", "--control-socket=" + path}) == kExitHealthy);
  healthy = false;
  CHECK(run({"--control-socket", path}) == kExitUnhealthy);
  CHECK(run({}) == kExitUnreachable);  // default path does not exist
  CHECK(run({"--control-socket", dir.path + "/other.sock"}) == kExitUnreachable);
  CHECK(run({"--bogus"}) == kExitUsage);
  CHECK(run({"--control-socket"}) == kExitUsage);

  guard.reset();
  io.stop();
  t.join();
}

TEST_CASE("status cli: formatting helpers") {
  CHECK(format_ago(1500) == "1.5s ago");
  CHECK(format_ago(95000) == "1m35s ago");
  CHECK(format_ago(nullptr) == "never");
  CHECK(format_lifetime(nullptr) == "infinite");
  CHECK(format_lifetime(59) == "59s");
  CHECK(format_lifetime(7500) == "2h05m");
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(2268) == "2.2 KiB");
  CHECK(format_bytes(std::uint64_t{5} << 40) == "5.0 TiB");
  CHECK(format_bytes(std::uint64_t{3} << 50) == "3072.0 TiB");
  CHECK(format_bytes(-1) == "?");
  CHECK(format_bytes(nullptr) == "?");
  CHECK(format_unix_ms(0) == "1970-01-01 00:00:00Z");
  Table t({"A", "BB"});
  t.add({"xxx", "y"});
  CHECK(t.render() == "A    BB\nxxx  y\n");
}

TEST_CASE("status cli: shorten keeps UTF-8 whole and escapes control characters") {
  CHECK(shorten("short", 10) == "short");
  CHECK(shorten("line1\nline2", 20) == "line1\\x0aline2");
  CHECK(shorten("ab\x1b[31m", 6) == "ab...");  // never half an escape
  CHECK(shorten("abcdefghijkl", 8) == "abcde...");
  // "ab—cd": the em dash is 3 bytes (offsets 2..4); a cut inside it moves before it.
  CHECK(shorten("ab\xe2\x80\x94"
                "cdefgh",
                7) == "ab...");
}

TEST_CASE("status cli: peer-supplied text cannot reach the terminal as control sequences") {
  CHECK(terminal_safe("plain text, caf\xc3\xa9") == "plain text, caf\xc3\xa9");
  CHECK(terminal_safe("\x1b]0;owned\x07") == "\\x1b]0;owned\\x07");
  CHECK(terminal_safe("a\x7f") == "a\\x7f");
  CHECK(terminal_safe("\xc2\x9b"
                      "2J") ==
        "\\xc2\\x9b"
        "2J");  // C1 CSI as UTF-8
  CHECK(terminal_safe("\xe2\x80\xae"
                      "evil") ==
        "\\xe2\\x80\\xae"
        "evil");                                              // right-to-left override
  CHECK(terminal_safe("\xff\xc3") == "\\xff\\xc3");           // not UTF-8
  CHECK(terminal_safe("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // a surrogate

  const nlohmann::json peer = {{"agent_version", "1.0\x1b[2J"}, {"gateway", std::string(5000, 'g')}};
  CHECK(text_of(peer, "agent_version") == "1.0\\x1b[2J");
  CHECK(text_of(peer, "gateway").size() <= kMaxFieldText);

  Table t({"A"});
  t.add({"x\ry"});
  t.add({std::string(1000, 'z')});
  const std::string table = t.render();
  CHECK(table.find('\r') == std::string::npos);
  CHECK(table.find("x\\x0dy") != std::string::npos);
  CHECK(table.find(std::string(kMaxFieldText + 1, 'z')) == std::string::npos);
}

TEST_CASE("status cli: --site NAME gives that site's exit code, an unknown site is a usage error") {
  TempDir dir;
  const std::string path = dir.path + "/d.sock";
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  auto server = ControlServer::start(io, path, status_only_handler([] { return two_sites("never_seen"); }));
  REQUIRE(server.ok());
  std::thread t([&] { io.run(); });

  CHECK(run({"--control-socket", path}, true) == kExitUnhealthy);  // the whole proxy: friend is offline
  CHECK(run({"--control-socket", path, "--site", "home"}, true) == kExitHealthy);
  CHECK(run({"--control-socket", path, "--site=friend"}, true) == kExitUnhealthy);
  CHECK(run({"--control-socket", path, "--site", "nosuch"}, true) == kExitUsage);
  CHECK(run({"--control-socket", path, "--site"}, true) == kExitUsage);
  CHECK(run({"--control-socket", path, "--site", "home"}, false) == kExitUsage);  // agent: no --site

  guard.reset();
  io.stop();
  t.join();

  auto home = proxy_status_for_site(two_sites("stale"), "home");
  REQUIRE(home.has_value());
  CHECK((*home)["healthy"] == true);
  CHECK((*home)["channel"]["sites"].size() == 1);
  CHECK_FALSE(proxy_status_for_site({{"channel", nullptr}}, "home").has_value());
}
