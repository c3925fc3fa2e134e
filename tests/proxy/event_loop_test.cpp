// The worker's own loop: timers in deadline order, exact cancellation, posted work on a later turn, work
// from other threads waking a blocked loop, descriptors before expired timers, and shut_down() releasing
// what is queued without running it.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "proxy/event_loop.hpp"

using namespace sixgate::proxy;
using namespace std::chrono_literals;

namespace {

struct Recorder : ReadinessPoller::Listener {
  std::vector<std::string>* order;
  explicit Recorder(std::vector<std::string>* o) : order(o) {}
  void on_ready(std::uint32_t, std::uint32_t) override { order->push_back("socket"); }
};

// Counts its destruction: lets a test see when a callback (and what it owns) is released.
struct Witness {
  explicit Witness(int* d) : destroyed(d) {}
  ~Witness() { ++*destroyed; }
  Witness(const Witness&) = delete;
  Witness& operator=(const Witness&) = delete;
  int* destroyed;
};

}  // namespace

TEST_CASE(
    "loop: timers fire in deadline order; a cancelled or re-armed one does not fire for its old deadline") {
  auto loop = EventLoop::create().value();
  std::vector<std::string> fired;
  LoopTimer late(*loop), early(*loop), cancelled(*loop), rearmed(*loop);
  const auto now = LoopTimer::Clock::now();
  late.arm(now + 30ms, [&] { fired.push_back("late"); });
  cancelled.arm(now + 5ms, [&] { fired.push_back("cancelled"); });
  early.arm(now + 10ms, [&] { fired.push_back("early"); });
  rearmed.arm(now + 1ms, [&] { fired.push_back("rearmed-old"); });
  rearmed.arm(now + 20ms, [&] { fired.push_back("rearmed"); });
  cancelled.cancel();
  CHECK_FALSE(cancelled.armed());
  CHECK(rearmed.armed());
  loop->run_for(200ms);
  CHECK(fired == std::vector<std::string>{"early", "rearmed", "late"});
  CHECK_FALSE(late.armed());
}

TEST_CASE("loop: many timers armed and cancelled at random still fire in order, each once") {
  auto loop = EventLoop::create().value();
  std::vector<std::unique_ptr<LoopTimer>> timers;
  std::vector<int> fired;
  const auto base = LoopTimer::Clock::now() + 5ms;
  for (int i = 0; i < 200; ++i) {
    timers.push_back(std::make_unique<LoopTimer>(*loop));
    const int slot = (i * 37) % 200;  // a permutation of 0..199: deadlines out of arming order
    timers.back()->arm(base + std::chrono::microseconds(slot * 50),
                       [&fired, slot] { fired.push_back(slot); });
  }
  for (int i = 0; i < 200; i += 3) timers[static_cast<std::size_t>(i)]->cancel();
  for (int i = 1; i < 200; i += 7) timers[static_cast<std::size_t>(i)].reset();  // destroyed while armed
  std::vector<int> expected;
  for (int i = 0; i < 200; ++i)
    if (i % 3 != 0 && (i - 1) % 7 != 0) expected.push_back((i * 37) % 200);
  std::sort(expected.begin(), expected.end());
  loop->run_for(100ms);
  CHECK(fired == expected);
}

TEST_CASE("loop: a cancelled callback is released on the next turn, not inside cancel()") {
  auto loop = EventLoop::create().value();
  int destroyed = 0;
  LoopTimer timer(*loop);
  {
    auto witness = std::make_shared<Witness>(&destroyed);
    timer.arm_after(1h, [witness] {});
  }
  timer.cancel();
  CHECK(destroyed == 0);  // its caller may be what the callback keeps alive
  loop->run_one_turn(0);
  CHECK(destroyed == 1);
}

TEST_CASE("loop: posted work runs on a later turn, and work it posts on the turn after") {
  auto loop = EventLoop::create().value();
  std::vector<std::string> ran;
  loop->post([&] {
    ran.push_back("first");
    loop->post([&] { ran.push_back("posted by first"); });
  });
  CHECK(ran.empty());
  loop->run_one_turn(0);
  CHECK(ran == std::vector<std::string>{"first"});
  loop->run_one_turn(0);
  CHECK(ran == std::vector<std::string>{"first", "posted by first"});
}

TEST_CASE("loop: a descriptor's readiness is handed out before a timer that expired meanwhile") {
  auto loop = EventLoop::create().value();
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  std::vector<std::string> order;
  auto token = loop->poller().watch_level(fds[1], EPOLLIN, std::make_shared<Recorder>(&order), 0).value();
  LoopTimer timer(*loop);
  timer.arm_after(1ms, [&] { order.push_back("timer"); });
  REQUIRE(::send(fds[0], "x", 1, 0) == 1);
  std::this_thread::sleep_for(5ms);  // both ready before the turn
  loop->run_one_turn(0);
  CHECK(order == std::vector<std::string>{"socket", "timer"});
  loop->poller().unwatch(token, fds[1]);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("loop: work from another thread wakes a blocked loop, and stop() from another thread ends run()") {
  auto loop = EventLoop::create().value();
  std::atomic<int> ran{0};
  LoopTimer far(*loop);
  far.arm_after(1h, [] {});  // run() would sleep an hour without the eventfd
  std::thread other([&] {
    std::this_thread::sleep_for(20ms);
    loop->post_from_any_thread([&] { ran.fetch_add(1); });
    std::this_thread::sleep_for(20ms);
    loop->stop();
  });
  const auto started = std::chrono::steady_clock::now();
  loop->run();
  other.join();
  CHECK(ran.load() == 1);
  CHECK(std::chrono::steady_clock::now() - started < 30s);  // a bound on a hang, not a speed target
}

TEST_CASE("loop: shut_down() releases queued work, timer callbacks and listeners without running them") {
  auto loop = EventLoop::create().value();
  int destroyed = 0;
  bool ran = false;
  LoopTimer timer(*loop);
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  {
    auto queued = std::make_shared<Witness>(&destroyed);
    auto timed = std::make_shared<Witness>(&destroyed);
    loop->post([queued, &ran] { ran = true; });
    loop->post_from_any_thread([queued, &ran] { ran = true; });
    timer.arm_after(0ms, [timed, &ran] { ran = true; });
  }
  std::vector<std::string> order;
  REQUIRE(loop->poller().watch(fds[1], std::make_shared<Recorder>(&order), 0).ok());
  loop->shut_down();
  CHECK(destroyed == 2);
  CHECK_FALSE(ran);
  CHECK_FALSE(timer.armed());
  CHECK(loop->poller().watched() == 1);  // the loop's own eventfd
  ::close(fds[0]);
  ::close(fds[1]);
}

namespace {
// Runs `on_destroy` from its destructor: a callback that owns one acts when the loop lets go of it.
struct OnDestroy {
  explicit OnDestroy(std::function<void()> f) : on_destroy(std::move(f)) {}
  ~OnDestroy() { on_destroy(); }
  OnDestroy(const OnDestroy&) = delete;
  OnDestroy& operator=(const OnDestroy&) = delete;
  std::function<void()> on_destroy;
};
}  // namespace

TEST_CASE("loop: work posted by a callback's destructor is neither lost nor run inside the destruction") {
  auto loop = EventLoop::create().value();
  bool later_ran = false;
  {
    auto poster = std::make_shared<OnDestroy>([&] { loop->post([&] { later_ran = true; }); });
    loop->post([poster] {});
  }
  loop->run_one_turn(0);  // runs the work, then releases it: its destructor posts
  CHECK_FALSE(later_ran);
  loop->run_one_turn(0);
  CHECK(later_ran);
}

TEST_CASE("loop: a released callback may cancel another timer; that one never fires and is released too") {
  auto loop = EventLoop::create().value();
  int destroyed = 0;
  bool second_fired = false;
  LoopTimer first(*loop), second(*loop);
  {
    auto witness = std::make_shared<Witness>(&destroyed);
    second.arm_after(20ms, [witness, &second_fired] { second_fired = true; });
    auto canceller = std::make_shared<OnDestroy>([&] { second.cancel(); });
    first.arm_after(1h, [canceller] {});
  }
  first.cancel();
  loop->run_for(100ms);
  CHECK_FALSE(second_fired);
  CHECK(destroyed == 1);
}
