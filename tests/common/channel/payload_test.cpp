#include <catch2/catch.hpp>
#include <string>

#include "common/channel/client.hpp"
#include "common/channel/payload.hpp"

using namespace sixgate::channel;
using nlohmann::json;

namespace {

AgentReport full_report() {
  AgentReport r;
  r.agent_version = "0.1.0";
  r.heartbeat_ms = 5000;
  r.prefixes.push_back({sixgate::Ipv6Prefix::parse("2001:db8:1::/56").value(), 3600, 1800});
  r.prefixes.push_back({sixgate::Ipv6Prefix::parse("2001:db8:2::/56").value(), std::nullopt, std::nullopt});
  r.sync = SyncState::error;
  r.sync_reason = "router unreachable";
  r.last_change_ms = 1764070000123;
  r.routed_prefix = sixgate::Ipv6Prefix::parse("2001:db8:0:0:1::/80").value();
  return r;
}

}  // namespace

TEST_CASE("payload: agent_report round trip") {
  auto back = agent_report_from_json(to_json(full_report()));
  REQUIRE(back.ok());
  CHECK(back->agent_version == "0.1.0");
  CHECK(back->heartbeat_ms == 5000);
  REQUIRE(back->prefixes.size() == 2);
  CHECK(back->prefixes[0].valid_s == 3600);
  CHECK(back->prefixes[0].preferred_s == 1800);
  CHECK_FALSE(back->prefixes[1].valid_s.has_value());
  CHECK(back->sync == SyncState::error);
  CHECK(back->sync_reason == "router unreachable");
  CHECK(back->last_change_ms == 1764070000123);
  CHECK(back->routed_prefix->to_string() == "2001:db8:0:0:1::/80");
}

TEST_CASE("payload: proxy_info round trip") {
  ProxyInfo i;
  i.proxy_version = "0.1.0";
  i.routed_prefix = sixgate::Ipv6Prefix::parse("2001:db8:0:0:1::/80").value();
  i.nat46_prefix = sixgate::Ipv6Prefix::parse("64:ff9b:1::/96").value();
  i.gateway = "fe80::1";
  i.ack_counter = 42;
  auto back = proxy_info_from_json(to_json(i));
  REQUIRE(back.ok());
  CHECK(back->routed_prefix == i.routed_prefix);
  CHECK(back->nat46_prefix == i.nat46_prefix);
  CHECK(back->gateway == "fe80::1");
  CHECK(back->ack_counter == 42);
}

TEST_CASE("payload: schema violations are errors, not exceptions") {
  auto base = to_json(full_report());
  auto broken = [&](auto mutate) {
    json j = base;
    mutate(j);
    return agent_report_from_json(j);
  };
  CHECK_FALSE(agent_report_from_json(json::array()).ok());
  CHECK_FALSE(broken([](json& j) { j.erase("agent_version"); }).ok());
  CHECK_FALSE(broken([](json& j) { j["agent_version"] = 5; }).ok());
  CHECK_FALSE(broken([](json& j) { j["agent_version"] = std::string(300, 'v'); }).ok());
  CHECK_FALSE(broken([](json& j) { j["heartbeat_ms"] = 10; }).ok());
  CHECK_FALSE(broken([](json& j) { j["heartbeat_ms"] = -1; }).ok());
  CHECK_FALSE(broken([](json& j) { j["heartbeat_ms"] = 1.5; }).ok());
  CHECK_FALSE(broken([](json& j) { j["prefixes"] = "x"; }).ok());
  CHECK_FALSE(broken([](json& j) { j["prefixes"][0]["prefix"] = "2001:db8::/129"; }).ok());
  CHECK_FALSE(broken([](json& j) { j["prefixes"][0]["prefix"] = "192.0.2.0/24"; }).ok());
  CHECK_FALSE(broken([](json& j) { j["prefixes"][0]["valid_s"] = -5; }).ok());
  CHECK_FALSE(broken([](json& j) { j["prefixes"][0]["valid_s"] = 18446744073709551615ULL; }).ok());
  CHECK_FALSE(broken([](json& j) {
                for (int i = 0; i < 20; ++i) j["prefixes"].push_back(j["prefixes"][0]);
              }).ok());
  CHECK_FALSE(broken([](json& j) { j["sync"]["state"] = "happy"; }).ok());
  CHECK_FALSE(broken([](json& j) { j.erase("sync"); }).ok());
  CHECK_FALSE(broken([](json& j) { j["routed_prefix"] = "nope"; }).ok());
  CHECK(broken([](json& j) { j["future_field"] = {1, 2, 3}; }).ok());

  json info = {{"proxy_version", "1"}, {"routed_prefix", "2001:db8::/80"}, {"gateway", "fe80::1%wg0"}};
  CHECK(proxy_info_from_json(info).ok());
  info["gateway"] = "not an address";
  CHECK_FALSE(proxy_info_from_json(info).ok());
  info["gateway"] = "fe80::1";
  info["ack_counter"] = -1;
  CHECK_FALSE(proxy_info_from_json(info).ok());
  info.erase("ack_counter");
  info.erase("routed_prefix");
  CHECK_FALSE(proxy_info_from_json(info).ok());
}

TEST_CASE("payload: text parsing refuses invalid and deeply nested JSON") {
  CHECK(parse_payload_text(R"({"a":[1,{"b":2}]})").ok());
  CHECK_FALSE(parse_payload_text("{").ok());
  CHECK_FALSE(parse_payload_text("").ok());
  CHECK_FALSE(parse_payload_text(std::string(9, '[') + std::string(9, ']')).ok());
  CHECK(parse_payload_text(R"({"s":"[[[[[[[[[[[["})").ok());  // brackets inside strings do not count
  CHECK_FALSE(parse_payload_text("{\"s\":\"\xff\"}").ok());   // invalid UTF-8
}

TEST_CASE("payload: fit_report_payload keeps every report acceptable to the receiver") {
  AgentReport r;
  r.agent_version = "0.1.0";
  for (int i = 0; i < 40; ++i)
    r.prefixes.push_back(
        {sixgate::Ipv6Prefix::parse("2001:db8:" + std::to_string(1000 + i) + "::/56").value(), 3600, 1800});
  r.sync = SyncState::error;
  r.sync_reason = std::string(400, 'x') + "\xff\xfe";
  for (std::size_t budget : {std::size_t{1100}, std::size_t{600}, std::size_t{300}}) {
    auto text = fit_report_payload(r, budget);
    INFO(budget << ": " << text);
    CHECK(text.size() <= budget);
    auto j = parse_payload_text(text);
    REQUIRE(j.ok());
    auto back = agent_report_from_json(*j);
    REQUIRE(back.ok());
    CHECK(back->prefixes.size() <= kMaxPrefixes);
    CHECK((*j)["truncated"] == true);
  }
  AgentReport dash = r;
  dash.prefixes.clear();
  dash.sync_reason = "router \xe2\x80\x94 down \xff";
  auto dash_json = parse_payload_text(fit_report_payload(dash, 1100)).value();
  CHECK(dash_json["sync"]["reason"] ==
        "router \xe2\x80\x94 down ");  // valid UTF-8 kept, the stray byte dropped
  AgentReport small;
  small.agent_version = "0.1.0";
  auto text = fit_report_payload(small, 1100);
  CHECK(parse_payload_text(text).value().count("truncated") == 0);
}
