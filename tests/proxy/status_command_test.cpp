// sixgate-proxy status: what the daemon reports of its own work beside the channel, and how the table shows
// it.
#include <catch2/catch.hpp>
#include <string>

#include "proxy/channel_server.hpp"
#include "proxy/status_command.hpp"

using namespace sixgate::proxy;

TEST_CASE("proxy status: connections, workers and lost log bytes are in the JSON and the table") {
  const ProxyActivity activity{
      .active_connections = 7, .max_connections = 4096, .workers = 2, .log_dropped_bytes = 0};
  const auto status = proxy_status_json(nullptr, activity);
  CHECK(status["connections"]["active"] == 7);
  CHECK(status["connections"]["max"] == 4096);
  CHECK(status["workers"] == 2);
  CHECK(status["log_dropped_bytes"] == 0);
  CHECK(status["healthy"] == true);  // no channel configured

  const std::string table = render_proxy_status(status);
  CHECK(table.find("connections: 7 open (max 4096), 2 workers\n") != std::string::npos);
  CHECK(table.find("WARNING") == std::string::npos);
  CHECK(table.find("channel: not configured") != std::string::npos);
}

TEST_CASE("proxy status: log lines stderr refused are a warning in the table") {
  const auto status = proxy_status_json(
      nullptr, {.active_connections = 0, .max_connections = 10, .workers = 1, .log_dropped_bytes = 1234});
  const std::string table = render_proxy_status(status);
  CHECK(table.find("WARNING: 1234 bytes of log lines were lost") != std::string::npos);
  CHECK(table.find("connections: 0 open (max 10), 1 worker\n") != std::string::npos);
}

TEST_CASE("proxy status: a reply without the activity fields (another version) still renders") {
  const nlohmann::json old = {
      {"daemon", "sixgate-proxy"}, {"version", "0.0.9"}, {"healthy", true}, {"channel", nullptr}};
  const std::string table = render_proxy_status(old);
  CHECK(table.find("sixgate-proxy 0.0.9: healthy") == 0);
  CHECK(table.find("connections:") == std::string::npos);
}
