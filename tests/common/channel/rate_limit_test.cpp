#include <catch2/catch.hpp>
#include <chrono>

#include "common/channel/rate_limit.hpp"

using sixgate::channel::TokenBucket;
using namespace std::chrono_literals;

TEST_CASE("rate limit: a burst of `capacity`, then `rate` per second, suppressed ones counted") {
  TokenBucket bucket(3, 1);
  const TokenBucket::Clock::time_point t0{};
  const auto start = t0 + 100s;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += bucket.allow(start) ? 1 : 0;
  CHECK(allowed == 3);
  CHECK(bucket.take_suppressed() == 7);
  CHECK(bucket.take_suppressed() == 0);
  CHECK_FALSE(bucket.allow(start + 500ms));
  CHECK(bucket.allow(start + 1s));
  CHECK_FALSE(bucket.allow(start + 1s));
  // A long pause refills to the capacity, not beyond.
  allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += bucket.allow(start + 1h) ? 1 : 0;
  CHECK(allowed == 3);
  // Time going backwards never adds tokens.
  CHECK_FALSE(bucket.allow(start));
}
