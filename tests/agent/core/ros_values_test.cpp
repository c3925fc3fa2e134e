#include <catch2/catch.hpp>

#include "agent/core/ros_values.hpp"

using namespace sixgate;
using namespace sixgate::agent::routeros;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

TEST_CASE("parse_duration reads every RouterOS form", "[routeros][values]") {
  struct Case {
    const char* text;
    milliseconds expected;
  };
  const Case cases[] = {
      {"6d16h56m8s", 6 * 24h + 16h + 56min + 8s},
      {"163w4d9h", 163 * 7 * 24h + 4 * 24h + 9h},
      {"300ms", 300ms},
      {"1m300ms", 1min + 300ms},
      {"00:00:10", 10s},
      {"1d 00:00:00", 24h},
      {"2w3d 04:05:06", 2 * 7 * 24h + 3 * 24h + 4h + 5min + 6s},
      {"1d00:00:01", 24h + 1s},
      {"00:00:01.5", 1500ms},
      {"10", 10s},
      {"0s", 0ms},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    auto d = parse_duration(c.text);
    REQUIRE(d.ok());
    CHECK(*d == c.expected);
  }
}

TEST_CASE("parse_duration rejects malformed text with a clear message", "[routeros][values]") {
  for (const char* bad :
       {"", "abc", "5x", "1d2", "00:61:00", "1d ", "00:00", "never", "1234567890123s", "-5s"}) {
    INFO(bad);
    auto d = parse_duration(bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().message.find("duration") != std::string::npos);
  }
}

TEST_CASE("format_duration round-trips through parse_duration", "[routeros][values]") {
  CHECK(format_duration(0ms) == "0s");
  CHECK(format_duration(300ms) == "300ms");
  CHECK(format_duration(6 * 24h + 16h + 56min + 8s) == "6d16h56m8s");
  CHECK(format_duration(8 * 24h) == "1w1d");
  for (milliseconds d : std::initializer_list<milliseconds>{1s, 59s, 1h + 1s, 163 * 7 * 24h + 9h})
    CHECK(*parse_duration(format_duration(d)) == d);
}

TEST_CASE("parse_bool accepts what RouterOS reads and writes", "[routeros][values]") {
  CHECK(*parse_bool("true"));
  CHECK(*parse_bool("yes"));
  CHECK_FALSE(*parse_bool("false"));
  CHECK_FALSE(*parse_bool("no"));
  CHECK_FALSE(parse_bool("").ok());
  CHECK_FALSE(parse_bool("1").ok());
  CHECK_FALSE(parse_bool("TRUE").ok());
  CHECK(format_bool(true) == "yes");
  CHECK(format_bool(false) == "no");
}

TEST_CASE("parse_dhcp_client_prefix splits prefix and remaining lifetime", "[routeros][values]") {
  auto p = parse_dhcp_client_prefix("2001:db8:1200::/56, 6d16h56m8s");
  REQUIRE(p.ok());
  CHECK(p->prefix.to_string() == "2001:db8:1200::/56");
  REQUIRE(p->remaining_valid.has_value());
  CHECK(*p->remaining_valid == std::chrono::seconds(6 * 86400 + 16 * 3600 + 56 * 60 + 8));

  auto bare = parse_dhcp_client_prefix("2001:db8:1200::/56");
  REQUIRE(bare.ok());
  CHECK_FALSE(bare->remaining_valid.has_value());

  auto several = parse_dhcp_client_prefix("2001:db8:1200::/56, 1h, 2001:db8:9900::/56, 2h");
  REQUIRE(several.ok());
  CHECK(several->prefix.to_string() == "2001:db8:1200::/56");
  CHECK(*several->remaining_valid == std::chrono::seconds(3600));

  for (const char* bad :
       {"", ", 1h", "2001:db8::/56, ", "2001:db8::/56, soon", "192.0.2.0/24, 1h", "garbage"}) {
    INFO(bad);
    auto r = parse_dhcp_client_prefix(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("dhcp-client prefix") != std::string::npos);
  }
}

using std::chrono::seconds;

TEST_CASE("durations as the agent core reads them (whole seconds)") {
  struct Case {
    const char* text;
    std::optional<seconds> expected;
  };
  const Case cases[] = {
      {"6d16h56m8s", seconds(6 * 86400 + 16 * 3600 + 56 * 60 + 8)},
      {"163w4d9h", seconds(163 * 7 * 86400 + 4 * 86400 + 9 * 3600)},
      {"300ms", seconds(0)},
      {"1m500ms", seconds(60)},
      {"00:00:10", seconds(10)},
      {"01:02:03", seconds(3723)},
      {"00:00:01.500", seconds(1)},
      {"1d 00:00:10", seconds(86410)},
      {"2w3d 04:05:06", seconds(17 * 86400 + 4 * 3600 + 5 * 60 + 6)},
      {"10", seconds(10)},
      {"1h", seconds(3600)},
      {"", std::nullopt},
      {"soon", std::nullopt},
      {"1x", std::nullopt},
      {"h", std::nullopt},
      {"00:61:00", std::nullopt},
      {"00:00", std::nullopt},
      {"1d 00:00:10 x", std::nullopt},
      {"10 5", std::nullopt},
      {"99999999999999w", std::nullopt},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto d = sixgate::agent::routeros::parse_duration(c.text);
    if (c.expected) {
      REQUIRE(d.ok());
      CHECK(std::chrono::duration_cast<seconds>(*d) == *c.expected);
    } else {
      CHECK_FALSE(d.ok());
    }
  }
}
