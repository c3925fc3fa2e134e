#include <catch2/catch.hpp>
#include <chrono>
#include <optional>

#include "common/channel/replay.hpp"

using namespace sixgate::channel;

namespace {
constexpr WallMicros kStart = 1'764'070'000'000'000ULL;  // receiver start
constexpr WallMicros kSecond = 1'000'000ULL;
}  // namespace

TEST_CASE("replay: timestamp window is +-30 s inclusive") {
  ReplayWindow w(kStart);
  const WallMicros now = kStart + 100 * kSecond;
  CHECK(w.check("home", "a", now - 30 * kSecond, now) == std::nullopt);
  CHECK(w.check("home", "a", now - 30 * kSecond - 1, now) == DropReason::stale);
  CHECK(w.check("home", "a", now + 30 * kSecond, now) == std::nullopt);
  CHECK(w.check("home", "a", now + 30 * kSecond + 1, now) == DropReason::stale);
  CHECK(w.check("home", "a", 0, now) == DropReason::stale);
  CHECK(w.check("home", "a", ~0ULL, now) == DropReason::stale);
}

TEST_CASE("replay: counters must strictly increase per (site, sender)") {
  ReplayWindow w(kStart);
  const WallMicros now = kStart + 10 * kSecond;
  w.accept("home", "a", now, now);
  CHECK(w.check("home", "a", now, now) == DropReason::replay);
  CHECK(w.check("home", "a", now - 1, now) == DropReason::replay);
  CHECK(w.check("home", "a", now + 1, now) == std::nullopt);
  // Other senders and other sites have their own counters.
  CHECK(w.check("home", "b", now - 1, now) == std::nullopt);
  CHECK(w.check("friend", "a", now - 1, now) == std::nullopt);
}

TEST_CASE("replay: a restarted receiver refuses messages from before its start") {
  // First receiver life: accepts a message sent at t0.
  const WallMicros t0 = kStart;
  ReplayWindow first(t0 - 3600 * kSecond);
  CHECK(first.check("home", "a", t0, t0) == std::nullopt);
  first.accept("home", "a", t0, t0);
  // Restart 5 s later: a fresh table, but the floor is the new start time, so the recorded message (still
  // inside the 30 s window) is a replay, while the sender's next message (clock-seeded counter) passes.
  const WallMicros restart = t0 + 5 * kSecond;
  ReplayWindow second(restart);
  CHECK(second.check("home", "a", t0, restart + kSecond) == DropReason::replay);
  CHECK(second.check("home", "a", restart + kSecond, restart + kSecond) == std::nullopt);
}

TEST_CASE("replay: a restarted sender continues above its old counters") {
  SendCounter before;
  const WallMicros t = kStart;
  auto c1 = before.next(t);
  auto c2 = before.next(t);  // same clock reading: still increases
  CHECK(c2 == c1 + 1);
  ReplayWindow receiver(kStart - kSecond);
  receiver.accept("home", "a", c2, t);
  SendCounter after;  // sender restarted one millisecond later
  auto c3 = after.next(t + 1000);
  CHECK(c3 > c2);
  CHECK(receiver.check("home", "a", c3, t + 1000) == std::nullopt);
}

TEST_CASE("replay: SendCounter never goes back when the clock does") {
  SendCounter c;
  auto a = c.next(kStart);
  auto b = c.next(kStart - 10 * kSecond);
  CHECK(b == a + 1);
}

TEST_CASE("replay: sender table is bounded per site, least recently heard evicted") {
  ReplayWindow w(kStart, std::chrono::seconds(30), 2);
  const WallMicros now = kStart + kSecond;
  w.accept("home", "a", now, now);
  w.accept("home", "b", now + 1, now + 1);
  w.accept("home", "c", now + 2, now + 2);  // evicts "a"
  CHECK(w.tracked_senders() == 2);
  CHECK(w.check("home", "a", now, now + 3) == std::nullopt);
  CHECK(w.check("home", "b", now + 1, now + 3) == DropReason::replay);
  CHECK(w.check("home", "c", now + 2, now + 3) == DropReason::replay);
}
