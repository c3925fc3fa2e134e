#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/log.hpp"

using namespace sixgate;

TEST_CASE("plain events are key=value with quoting where needed") {
  auto line = log::format_event(log::Format::plain, "conn.close",
                                {{"client", "192.0.2.2:4000"},
                                 {"sni", "a b"},
                                 {"bytes", std::uint64_t{42}},
                                 {"ok", true},
                                 {"empty", ""}});
  CHECK(line == R"(conn.close client=192.0.2.2:4000 sni="a b" bytes=42 ok=true empty="")");
}

TEST_CASE("json events parse as one object with the given fields") {
  auto body = log::format_event(log::Format::json, "conn.close",
                                {{"sni", "x\"y"}, {"bytes", 7}, {"neg", -3}, {"ratio", 0.5}, {"ok", false}});
  auto j = nlohmann::json::parse("{" + body + "}");
  CHECK(j["event"] == "conn.close");
  CHECK(j["sni"] == "x\"y");
  CHECK(j["bytes"] == 7);
  CHECK(j["neg"] == -3);
  CHECK(j["ratio"] == 0.5);
  CHECK(j["ok"] == false);
}

TEST_CASE("json stays valid with invalid UTF-8 in a field") {
  std::string bad = "a\xff\xfe";
  auto body = log::format_event(log::Format::json, "x", {{"v", bad}});
  CHECK_NOTHROW(nlohmann::json::parse("{" + body + "}"));
}

TEST_CASE("bounded escapes and cuts untrusted text") {
  CHECK(log::bounded("example.com") == "example.com");
  CHECK(log::bounded(std::string("a\0b\n\"\\", 6)) == "a\\x00b\\x0a\\x22\\x5c");
  CHECK(log::bounded("\xc3\xa9") == "\\xc3\\xa9");
  auto long_text = std::string(1000, 'a');
  auto cut = log::bounded(long_text, 10);
  CHECK(cut == "aaaaaaaaaa...");
}

TEST_CASE("level and format names") {
  CHECK(*log::parse_level("debug") == spdlog::level::debug);
  CHECK(*log::parse_level("warn") == spdlog::level::warn);
  CHECK(*log::parse_level("error") == spdlog::level::err);
  auto bad = log::parse_level("loud");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("loud") != std::string::npos);
  CHECK(*log::parse_format("json") == log::Format::json);
  CHECK_FALSE(log::parse_format("xml").ok());
}

TEST_CASE("setup rejects a bad level and keeps the previous logger") {
  auto before = spdlog::default_logger();
  auto s = log::setup(std::string("nope"), std::nullopt);
  REQUIRE_FALSE(s.ok());
  CHECK(spdlog::default_logger() == before);
  REQUIRE(log::setup(std::string("warn"), std::string("json")).ok());
  CHECK(log::current_format() == log::Format::json);
  CHECK(spdlog::default_logger()->level() == spdlog::level::warn);
  REQUIRE(log::setup(std::string("info"), std::string("plain")).ok());
}

TEST_CASE("plain values escape control characters inside quotes") {
  auto line = log::format_event(log::Format::plain, "x", {{"v", "a\nb\x1b[2J\"c\\"}});
  CHECK(line == R"(x v="a\x0ab\x1b[2J\"c\\")");
  CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("the level comes from SIXGATE_LOG_LEVEL unless --log-level is given") {
  REQUIRE(::setenv("SIXGATE_LOG_LEVEL", "debug", 1) == 0);
  REQUIRE(log::setup(std::nullopt, std::string("plain")).ok());
  CHECK(spdlog::default_logger()->level() == spdlog::level::debug);
  REQUIRE(log::setup(std::string("error"), std::string("plain")).ok());  // the flag wins
  CHECK(spdlog::default_logger()->level() == spdlog::level::err);

  REQUIRE(::setenv("SIXGATE_LOG_LEVEL", "chatty", 1) == 0);
  auto bad = log::setup(std::nullopt, std::nullopt);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("chatty") != std::string::npos);

  REQUIRE(::setenv("SIXGATE_LOG_LEVEL", "", 1) == 0);  // empty: the default
  REQUIRE(log::setup(std::nullopt, std::nullopt).ok());
  CHECK(spdlog::default_logger()->level() == spdlog::level::info);
  ::unsetenv("SIXGATE_LOG_LEVEL");
}
