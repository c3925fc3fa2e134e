#include "agent/core/duration.hpp"

#include <catch2/catch.hpp>

using sixgate::agent::parse_ros_duration;
using std::chrono::seconds;

TEST_CASE("duration: RouterOS spellings") {
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
    CHECK(parse_ros_duration(c.text) == c.expected);
  }
}
