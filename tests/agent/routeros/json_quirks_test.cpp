#include <catch2/catch.hpp>
#include <random>

#include "agent/routeros/json_quirks.hpp"

using namespace sixgate;
using namespace sixgate::agent::routeros;

TEST_CASE("raw control characters inside strings are escaped, structure is untouched", "[routeros][json]") {
  std::string body = "[{\"host-name\":\"pc\x01name\",\"comment\":\"tab\there\nnl\"}]\n";
  auto j = parse_body(body, "test");
  REQUIRE(j.ok());
  auto list = to_ros_list(*j, "test");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].at("host-name") == "pc\x01name");
  CHECK((*list)[0].at("comment") == "tab\there\nnl");
  // Whitespace between tokens is legal JSON and stays as it is.
  CHECK(escape_control_chars_in_strings("{\n\t\"a\" : \"b\"\r\n}") == "{\n\t\"a\" : \"b\"\r\n}");
  // Escaped quotes and backslashes do not end the string early.
  CHECK(escape_control_chars_in_strings(R"({"a":"x\"y\\)" + std::string("\x02") + "\"}") ==
        R"({"a":"x\"y\\\u0002"})");
}

TEST_CASE("a backslash before a raw control byte becomes a literal backslash", "[routeros][json]") {
  std::string body = std::string("{\"a\":\"x\\") + '\x01' + "\"}";
  auto j = parse_body(body, "test");
  REQUIRE(j.ok());
  CHECK((*j)["a"].get<std::string>() == std::string("x\\\x01"));
}

TEST_CASE("bytes that are not UTF-8 are read as Latin-1 instead of failing", "[routeros][json]") {
  std::string body = "{\"comment\":\"caf\xe9 \xc3\xa9\"}";  // Latin-1 é, then a valid UTF-8 é
  auto j = parse_body(body, "test");
  REQUIRE(j.ok());
  CHECK((*j)["comment"].get<std::string>() == "caf\xc3\xa9 \xc3\xa9");
}

TEST_CASE("numbers, booleans and null become strings", "[routeros][json]") {
  auto j = parse_body(R"({".id":"*1A","distance":1,"disabled":false,"active":true,"x":null,"r":1.5,"n":[1]})",
                      "t");
  REQUIRE(j.ok());
  auto o = to_ros_object(*j, "t");
  REQUIRE(o.ok());
  CHECK(o->at(".id") == "*1A");
  CHECK(o->at("distance") == "1");
  CHECK(o->at("disabled") == "false");
  CHECK(o->at("active") == "true");
  CHECK(o->at("x") == "");
  CHECK(o->at("r") == "1.5");
  CHECK(o->at("n") == "[1]");
}

TEST_CASE("singletons come as an object or a one-element array", "[routeros][json]") {
  auto obj = to_singleton(nlohmann::json::parse(R"({"version":"7.16"})"), "t");
  REQUIRE(obj.ok());
  CHECK(obj->at("version") == "7.16");
  auto arr = to_singleton(nlohmann::json::parse(R"([{"version":"7.16"}])"), "t");
  REQUIRE(arr.ok());
  CHECK(arr->at("version") == "7.16");
  auto two = to_singleton(nlohmann::json::parse(R"([{"a":"1"},{"a":"2"}])"), "GET /rest/x");
  REQUIRE_FALSE(two.ok());
  CHECK(two.error().message.find("array of 2") != std::string::npos);
  CHECK_FALSE(to_singleton(nlohmann::json::parse("[]"), "t").ok());
  CHECK_FALSE(to_singleton(nlohmann::json::parse("\"x\""), "t").ok());
}

TEST_CASE("lists must be arrays of objects", "[routeros][json]") {
  CHECK(to_ros_list(nlohmann::json::parse("[]"), "t")->empty());
  auto not_array = to_ros_list(nlohmann::json::parse(R"({"a":"b"})"), "GET /rest/ipv6/route");
  REQUIRE_FALSE(not_array.ok());
  CHECK(not_array.error().message.find("GET /rest/ipv6/route") != std::string::npos);
  CHECK_FALSE(to_ros_list(nlohmann::json::parse(R"([{"a":"b"},"x"])"), "t").ok());
}

TEST_CASE("truncated or non-JSON bodies give an error quoting the body, bounded", "[routeros][json]") {
  auto r = parse_body(R"([{".id":"*1","comm)", "GET /rest/ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("not JSON") != std::string::npos);
  CHECK(r.error().message.find("GET /rest/ipv6/route") != std::string::npos);
  auto huge = parse_body(std::string(100000, 'x'), "t");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().message.size() < 1000);
}

TEST_CASE("request bodies are JSON objects of strings", "[routeros][json]") {
  CHECK(to_request_body({}) == "{}");
  auto body = nlohmann::json::parse(to_request_body({{"chain", "prerouting"}, {"comment", "a\"b\x01"}}));
  CHECK(body["chain"] == "prerouting");
  CHECK(body["comment"] == "a\"b\x01");
  CHECK(nlohmann::json::parse(to_request_body({{"c", "caf\xe9"}}))["c"].is_string());
}

TEST_CASE("escaping leaves valid JSON alone and repairs any raw control bytes", "[routeros][json]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 127), len(0, 40);
  for (int round = 0; round < 500; ++round) {
    std::string value;
    for (int i = len(rng); i > 0; --i) value += static_cast<char>(byte(rng));
    nlohmann::json j = {{"k", value}, {"n", round}, {"a", {value, "x"}}};
    std::string valid = j.dump();
    REQUIRE(escape_control_chars_in_strings(valid) == valid);

    // The same text written raw between quotes, as RouterOS does: only '"' and '\' need escaping by the
    // sender.
    std::string raw_value;
    for (char c : value) {
      if (c == '"' || c == '\\') raw_value += '\\';
      raw_value += c;
    }
    auto parsed = parse_body("{\"k\":\"" + raw_value + "\"}", "t");
    REQUIRE(parsed.ok());
    REQUIRE((*parsed)["k"].get<std::string>() == value);
  }
}
