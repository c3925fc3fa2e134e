// sixgate-proxy status: what the daemon reports of its own work beside the channel, and how the table shows
// it.
#include <catch2/catch.hpp>
#include <string>

#include "proxy/channel_server.hpp"
#include "proxy/status_command.hpp"

using namespace sixgate::proxy;

TEST_CASE("proxy status: connections, workers and lost log bytes are in the JSON and the table") {
  const ProxyActivity activity{
      .active_connections = 7, .max_connections = 4096, .workers = 2, .log_dropped_bytes = 0, .ended = {}};
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
  CHECK(table.find("ended since start: 0 relayed, 0 refused, 0 stopped; 0 B up, 0 B down\n") !=
        std::string::npos);
  CHECK(table.find("reasons:") == std::string::npos);
}

TEST_CASE("proxy status: connections ended since start, by outcome and reason, with the bytes relayed") {
  // Two workers' tallies, summed as the daemon sums them.
  ConnectionTally first, second;
  first.add("relayed", "closed", 720, 3 * 1024 * 1024);
  first.add("refused", "refused_address:outside_backend_cidr", 0, 0);
  second.add("relayed", "client_error:Connection timed out", 1500, 2048);
  second.add("refused", "refused_address:loopback", 0, 0);
  second.add("stopped", "drain_timeout", 10, 20);
  TallyTotals ended = first.totals();
  ended += second.totals();

  const auto status = proxy_status_json(
      nullptr,
      {.active_connections = 1, .max_connections = 10, .workers = 2, .log_dropped_bytes = 0, .ended = ended});
  const auto& e = status["ended"];
  CHECK(e["relayed"] == 2);
  CHECK(e["refused"] == 2);
  CHECK(e["stopped"] == 1);
  CHECK(e["up_bytes"] == 720 + 1500 + 10);
  CHECK(e["down_bytes"] == 3 * 1024 * 1024 + 2048 + 20);
  CHECK(e["reasons"] ==
        nlohmann::json{{"client_error", 1}, {"closed", 1}, {"drain_timeout", 1}, {"refused_address", 2}});
  const std::string table = render_proxy_status(status);
  CHECK(table.find("ended since start: 2 relayed, 2 refused, 1 stopped; 2.2 KiB up, 3.0 MiB down\n") !=
        std::string::npos);
  CHECK(table.find("  reasons: client_error 1, closed 1, drain_timeout 1, refused_address 2\n") !=
        std::string::npos);
}

TEST_CASE("a reason's category is the text before its first ':'") {
  CHECK(reason_category("refused_address:outside_backend_cidr") == "refused_address");
  CHECK(reason_category("client_error:getsockname:Bad file descriptor") == "client_error");
  CHECK(reason_category("closed") == "closed");
  CHECK(reason_category("") == "");
}

TEST_CASE("proxy status: log lines stderr refused are a warning in the table") {
  const auto status = proxy_status_json(
      nullptr,
      {.active_connections = 0, .max_connections = 10, .workers = 1, .log_dropped_bytes = 1234, .ended = {}});
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
