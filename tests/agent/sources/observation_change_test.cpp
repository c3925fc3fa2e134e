#include "agent/sources/observation_change.hpp"

#include <catch2/catch.hpp>

using namespace sixgate;
using namespace sixgate::agent;
using std::chrono::seconds;

namespace {
PrefixObservation obs(const char* p, seconds valid, seconds preferred) {
  return {Ipv6Prefix::parse(p).value(), valid, preferred, "test"};
}
const auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
const auto slack = seconds(2);
}  // namespace

TEST_CASE("observations_differ: identical sets at the same time do not differ", "[observations]") {
  std::vector a{obs("2001:db8:1200::/56", seconds(100), seconds(50))};
  CHECK_FALSE(observations_differ(a, t0, a, t0, slack));
  CHECK_FALSE(observations_differ({}, t0, {}, t0 + seconds(9), slack));
}

TEST_CASE("observations_differ: a lifetime counting down in step is no change", "[observations]") {
  std::vector a{obs("2001:db8:1200::/56", seconds(100), seconds(50))};
  std::vector b{obs("2001:db8:1200::/56", seconds(70), seconds(20))};
  CHECK_FALSE(observations_differ(a, t0, b, t0 + seconds(30), slack));
  std::vector c{obs("2001:db8:1200::/56", seconds(69), seconds(21))};  // rounding jitter
  CHECK_FALSE(observations_differ(a, t0, c, t0 + seconds(30), slack));
}

TEST_CASE("observations_differ: renewal, deprecation, infinity and membership are changes",
          "[observations]") {
  std::vector a{obs("2001:db8:1200::/56", seconds(100), seconds(50))};
  CHECK(observations_differ(a, t0, {obs("2001:db8:1200::/56", seconds(100), seconds(50))}, t0 + seconds(30),
                            slack));
  CHECK(observations_differ(a, t0, {obs("2001:db8:1200::/56", seconds(100), seconds(0))}, t0, slack));
  CHECK(observations_differ(a, t0, {obs("2001:db8:1200::/56", seconds::max(), seconds(50))}, t0, slack));
  CHECK(observations_differ(a, t0, {obs("2001:db8:1300::/56", seconds(100), seconds(50))}, t0, slack));
  CHECK(observations_differ(a, t0, {}, t0, slack));
  CHECK(observations_differ({}, t0, a, t0, slack));
  std::vector two{a[0], obs("2001:db8:1300::/56", seconds(100), seconds(50))};
  CHECK(observations_differ(a, t0, two, t0, slack));
}

TEST_CASE("observations_differ: infinite lifetimes compare equal across time", "[observations]") {
  std::vector a{obs("fd00::/48", seconds::max(), seconds::max())};
  CHECK_FALSE(observations_differ(a, t0, a, t0 + std::chrono::hours(100), slack));
}

TEST_CASE("observations_differ: a small refresh of a long lifetime is no change, a large one is",
          "[observations]") {
  std::vector a{obs("2001:db8:1200::/56", seconds(300), seconds(200))};
  // Four seconds later an RA restores the full lifetimes: the ends moved by 4 s, less than a tenth of 300 /
  // 200.
  CHECK_FALSE(observations_differ(a, t0, a, t0 + seconds(4), slack));
  // Forty seconds later: moved by more than a tenth.
  CHECK(observations_differ(a, t0, a, t0 + seconds(40), slack));
}

TEST_CASE("observations_differ: a lifetime that stays at zero is no change", "[observations]") {
  std::vector a{obs("2001:db8:1200::/56", seconds(20), seconds(0))};  // deprecated
  std::vector b{obs("2001:db8:1200::/56", seconds(16), seconds(0))};
  CHECK_FALSE(observations_differ(a, t0, b, t0 + seconds(4), slack));
  std::vector c{obs("2001:db8:1200::/56", seconds(20), seconds(3))};
  std::vector d{obs("2001:db8:1200::/56", seconds(16), seconds(0))};  // ran out in between: same deadline
  CHECK_FALSE(observations_differ(c, t0, d, t0 + seconds(4), slack));
  CHECK(observations_differ(d, t0, c, t0, slack));  // un-deprecated
}
