// The listener on the worker's edge-triggered poller: every queued connection is accepted although one edge
// announced them all, and running out of descriptors backs off (logged once) instead of spinning or stalling.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/log.hpp"
#include "proxy/accept_loop.hpp"
#include "tests/proxy/log_capture.hpp"
#include "tests/proxy/run_until.hpp"

using namespace sixgate::proxy;

namespace {

// A listening TCP socket on 127.0.0.1 (an ephemeral port) and what the loop hands on.
struct Fixture {
  Fixture() {
    listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(listen_fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listen_fd, 128) == 0);
    socklen_t len = sizeof address;
    REQUIRE(::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &len) == 0);
    loop = std::make_shared<AcceptLoop>(*worker_loop, listen_fd, "test", 0,
                                        [this](int fd, const sockaddr_storage&) { accepted.push_back(fd); });
    REQUIRE(loop->start().ok());
  }
  ~Fixture() {
    loop->close();
    for (int fd : accepted) ::close(fd);
    for (int fd : clients) ::close(fd);
  }
  void connect_client() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    // Completes at once: the kernel queues the connection until the loop accepts it.
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    clients.push_back(fd);
  }
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    return test::run_until(*worker_loop, done, limit);
  }
  void run_for(std::chrono::milliseconds span) {
    run_until([] { return false; }, span);
  }

  test::LogCapture log;
  std::unique_ptr<EventLoop> worker_loop = EventLoop::create().value();
  int listen_fd = -1;
  sockaddr_in address{};
  std::shared_ptr<AcceptLoop> loop;
  std::vector<int> accepted, clients;
};

// Lowers the soft descriptor limit to the lowest free descriptor number (so no new one can be made) while it
// lives.
class NoFreeDescriptors {
 public:
  NoFreeDescriptors() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit lowered = saved_;
    lowered.rlim_cur = static_cast<rlim_t>(lowest_free);
    lowered_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;  // checked by the caller once restored
  }
  bool lowered() const { return lowered_; }
  ~NoFreeDescriptors() { restore(); }
  void restore() {
    if (restored_) return;
    restored_ = true;
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  bool lowered_ = false;
  bool restored_ = false;
};

}  // namespace

TEST_CASE(
    "accept loop: a queue longer than one turn takes is accepted over the next turns, and so is the next") {
  Fixture f;
  const int queued = 3 * AcceptLoop::kAcceptsPerTurn + 1;
  for (int i = 0; i < queued; ++i) f.connect_client();
  REQUIRE(f.run_until([&] { return f.accepted.size() == static_cast<std::size_t>(queued); },
                      std::chrono::seconds(3)));
  f.connect_client();  // and the next one raises its own edge
  CHECK(f.run_until([&] { return f.accepted.size() == static_cast<std::size_t>(queued + 1); },
                    std::chrono::seconds(3)));
}

TEST_CASE("accept loop: out of descriptors, it backs off, logs once, and accepts when descriptors are free") {
  Fixture f;
  // Under UBSan the first check of an object's dynamic type (a virtual call, a logger's sink) probes memory
  // through a pipe, which needs two descriptors: with none free it reports a false error. So every path the
  // test takes with the limit lowered runs once before: an accept through the poller, a timer's expiry, and
  // a log line of the same shape; and no assertion runs while the limit is lowered.
  f.connect_client();
  REQUIRE(f.run_until([&] { return f.accepted.size() == 1; }, std::chrono::seconds(3)));
  LoopTimer warm_timer(*f.worker_loop);
  bool fired = false;
  warm_timer.arm_after(std::chrono::milliseconds(1), [&] { fired = true; });
  REQUIRE(f.run_until([&] { return fired; }, std::chrono::seconds(3)));
  sixgate::log::event(spdlog::level::info, "warm_up",
                      {{"listener", "-"}, {"worker", 0u}, {"error", "-"}, {"backoff_ms", std::int64_t{0}}});

  f.connect_client();  // waits in the queue; its edge is seen once the loop runs
  {
    // Attempts at 0, 100 and 300 ms: each fails with EMFILE; only the first is logged. (No assertion inside:
    // Catch's expression objects are polymorphic too.)
    NoFreeDescriptors limit;
    const auto turns_before = f.worker_loop->poller().turns();
    f.run_for(std::chrono::milliseconds(350));
    // The listener is level-triggered: with its reports left on during the back-off, the waiting connection
    // would make every turn return at once (hundreds of thousands in 350 ms) instead of ~100 slices.
    const auto turns = f.worker_loop->poller().turns() - turns_before;
    const std::size_t accepted_while_limited = f.accepted.size();
    const bool backing_off = f.loop->backing_off();
    limit.restore();
    REQUIRE(limit.lowered());
    CHECK(accepted_while_limited == 1);
    CHECK(backing_off);
    CHECK(turns < 2000);
    CHECK(f.log.count("accept_failed") == 1);
    CHECK(f.log.has("error=\"Too many open files\""));
    CHECK(f.log.has("backoff_ms=100"));
  }
  // The waiting connection raised its edge long ago: the back-off's end must accept it by itself (800 ms at
  // most, the third back-off).
  REQUIRE(f.run_until([&] { return f.accepted.size() == 2; }, std::chrono::seconds(3)));
  CHECK_FALSE(f.loop->backing_off());
  f.connect_client();
  CHECK(f.run_until([&] { return f.accepted.size() == 3; }, std::chrono::seconds(3)));
  CHECK(f.log.count("accept_failed") == 1);
}

TEST_CASE("accept loop: a TCP connection is handed on with its ACKs delayed until a reply") {
  Fixture f;
  f.connect_client();
  REQUIRE(f.run_until([&] { return !f.accepted.empty(); }, std::chrono::seconds(5)));
  // TCP_QUICKACK reads 1 while ACKs leave at once (the client's socket, untouched) and 0 once they wait.
  auto quickack = [](int fd) {
    int on = -1;
    socklen_t len = sizeof on;
    REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, &len) == 0);
    return on;
  };
  CHECK(quickack(f.clients[0]) == 1);
  CHECK(quickack(f.accepted[0]) == 0);
}
