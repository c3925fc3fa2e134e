#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <variant>

#include "common/channel/payload.hpp"
#include "common/channel/receiver.hpp"
#include "test_keys.hpp"

using namespace sixgate::channel;
using sixgate::channel::testing::key_of;

namespace {

constexpr WallMicros kStart = 1'764'070'000'000'000ULL;
constexpr WallMicros kSecond = 1'000'000ULL;

AgentReport report() {
  AgentReport r;
  r.agent_version = "0.1.0";
  r.heartbeat_ms = 10000;
  r.prefixes.push_back({sixgate::Ipv6Prefix::parse("2001:db8:1::/56").value(), 3600, 1800});
  r.sync = SyncState::in_sync;
  return r;
}

std::vector<std::uint8_t> datagram(const std::string& site, const SiteKey& key, std::uint64_t counter,
                                   MessageType type = MessageType::agent_report,
                                   std::string payload = to_json(report()).dump()) {
  return encode_message(Message{type, site, "agent-1", counter, std::move(payload)}, key).value();
}

Receiver proxy_receiver() {
  return Receiver({{"home", key_of(1)}, {"friend", key_of(2)}}, MessageType::agent_report, kStart);
}

DropReason rejected(std::variant<Accepted, Rejection> r) {
  REQUIRE(std::holds_alternative<Rejection>(r));
  return std::get<Rejection>(r).reason;
}

}  // namespace

TEST_CASE("receiver: accepts an authentic fresh message and returns its parsed payload") {
  auto rx = proxy_receiver();
  const WallMicros now = kStart + 10 * kSecond;
  auto r = rx.receive(datagram("home", key_of(1), now), now, "fe80::2%wg0");
  REQUIRE(std::holds_alternative<Accepted>(r));
  auto& acc = std::get<Accepted>(r);
  CHECK(acc.message.site == "home");
  auto parsed = agent_report_from_json(acc.payload);
  REQUIRE(parsed.ok());
  CHECK(parsed->prefixes.at(0).prefix.to_string() == "2001:db8:1::/56");
  CHECK(rx.counters().accepted == 1);
  CHECK(rx.site_counters().at("home").accepted == 1);
}

TEST_CASE("receiver: a key for one site cannot speak for another") {
  auto rx = proxy_receiver();
  const WallMicros now = kStart + 10 * kSecond;
  // Made with home's key, but claims to be "friend": the receiver checks it with friend's key.
  CHECK(rejected(rx.receive(datagram("friend", key_of(1), now), now)) == DropReason::bad_mac);
  CHECK(rx.counters()[DropReason::bad_mac] == 1);
  CHECK(rx.site_counters().at("friend")[DropReason::bad_mac] == 1);
  CHECK(rx.site_counters().at("home").dropped() == 0);
  // The same bytes with the right claim pass.
  CHECK(std::holds_alternative<Accepted>(rx.receive(datagram("friend", key_of(2), now), now)));
}

TEST_CASE("receiver: every rejection reason is counted") {
  auto rx = proxy_receiver();
  const WallMicros now = kStart + 100 * kSecond;

  CHECK(rejected(rx.receive(std::vector<std::uint8_t>(kMaxDatagram + 1, 0), now)) == DropReason::oversize);
  CHECK(rejected(rx.receive(std::vector<std::uint8_t>{1, 2, 3}, now)) == DropReason::malformed);
  auto v2 = datagram("home", key_of(1), now);
  v2[4] = 2;
  CHECK(rejected(rx.receive(v2, now)) == DropReason::bad_version);
  CHECK(rejected(rx.receive(datagram("home", key_of(1), now, MessageType::proxy_info), now)) ==
        DropReason::unexpected_type);
  CHECK(rejected(rx.receive(datagram("nobody", key_of(1), now), now)) == DropReason::unknown_site);
  CHECK(rejected(rx.receive(datagram("home", key_of(9), now), now)) == DropReason::bad_mac);
  CHECK(rejected(rx.receive(datagram("home", key_of(1), now - 31 * kSecond), now)) == DropReason::stale);
  CHECK(rejected(rx.receive(datagram("home", key_of(1), now + 31 * kSecond), now)) == DropReason::stale);
  auto good = datagram("home", key_of(1), now);
  CHECK(std::holds_alternative<Accepted>(rx.receive(good, now)));
  CHECK(rejected(rx.receive(good, now + 1)) == DropReason::replay);
  CHECK(rejected(rx.receive(datagram("home", key_of(1), now - 1), now)) == DropReason::replay);
  CHECK(rejected(rx.receive(datagram("home", key_of(1), now + 1, MessageType::agent_report, "{not json"),
                            now)) == DropReason::bad_payload);
  CHECK(rejected(rx.receive(
            datagram("home", key_of(1), now + 2, MessageType::agent_report, std::string(20, '[')), now)) ==
        DropReason::bad_payload);

  const auto& c = rx.counters();
  for (auto reason :
       {DropReason::oversize, DropReason::malformed, DropReason::bad_version, DropReason::unexpected_type,
        DropReason::unknown_site, DropReason::bad_mac, DropReason::bad_payload}) {
    INFO(to_string(reason));
    CHECK(c[reason] == (reason == DropReason::bad_payload ? 2 : 1));
  }
  CHECK(c[DropReason::stale] == 2);
  CHECK(c[DropReason::replay] == 2);
  CHECK(c.accepted == 1);
  CHECK(c.dropped() == 12);
  auto j = c.to_json();
  CHECK(j["dropped"]["replay"] == 2);
  CHECK(j["accepted"] == 1);
}

TEST_CASE("receiver: a payload refused by the caller's schema moves the count to bad_payload") {
  auto rx = proxy_receiver();
  const WallMicros now = kStart + 10 * kSecond;
  auto r = rx.receive(datagram("home", key_of(1), now, MessageType::agent_report, "{}"), now);
  REQUIRE(std::holds_alternative<Accepted>(r));
  CHECK_FALSE(agent_report_from_json(std::get<Accepted>(r).payload).ok());
  rx.reject_payload("home", "schema", "peer");
  CHECK(rx.counters().accepted == 0);
  CHECK(rx.counters()[DropReason::bad_payload] == 1);
  CHECK(rx.site_counters().at("home")[DropReason::bad_payload] == 1);
}

TEST_CASE("receiver: a message from before the receiver started is a replay (restart)") {
  auto rx = proxy_receiver();
  CHECK(rejected(rx.receive(datagram("home", key_of(1), kStart - kSecond), kStart + kSecond)) ==
        DropReason::replay);
}

TEST_CASE("receiver: a flood of garbage is counted in full but logged at a bounded rate") {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto capture =
      std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  capture->set_pattern("%v");
  spdlog::set_default_logger(capture);
  auto lines = [&] {
    std::istringstream in(captured.str());
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("channel_drop")) out.push_back(line);
    return out;
  };

  auto rx = proxy_receiver();
  const std::vector<std::uint8_t> garbage(40, 0x5a);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) rx.receive(garbage, kStart, "fe80::66%wg0");
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  CHECK(rx.counters()[DropReason::malformed] == 1000);
  // A burst of 10, then 1 per second.
  CHECK(lines().size() <= 10 + static_cast<std::size_t>(seconds.count()) + 1);
  CHECK(lines().size() >= 10);

  // After a pause the next line says how many were left out.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  rx.receive(garbage, kStart, "fe80::66%wg0");
  const auto after = lines();
  REQUIRE_FALSE(after.empty());
  CHECK(after.back().find("suppressed_before=0") == std::string::npos);
  spdlog::set_default_logger(previous);
}
