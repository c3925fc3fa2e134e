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

int run(const std::vector<std::string>& args) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  StatusCommand cmd{"sixgate-test", "/nonexistent/sgch.sock",
                    [](const nlohmann::json& s) { return s.dump() + "\n"; }};
  return run_status_command(cmd, static_cast<int>(argv.size()), argv.data());
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
  CHECK(format_unix_ms(0) == "1970-01-01 00:00:00Z");
  Table t({"A", "BB"});
  t.add({"xxx", "y"});
  CHECK(t.render() == "A    BB\nxxx  y\n");
}

TEST_CASE("status cli: shorten keeps UTF-8 whole and removes control characters") {
  CHECK(shorten("short", 10) == "short");
  CHECK(shorten("line1\nline2", 20) == "line1 line2");
  CHECK(shorten("abcdefghijkl", 8) == "abcde...");
  // "ab—cd": the em dash is 3 bytes (offsets 2..4); a cut inside it moves before it.
  CHECK(shorten("ab\xe2\x80\x94"
                "cdefgh",
                7) == "ab...");
}
