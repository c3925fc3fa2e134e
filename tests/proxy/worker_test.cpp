// Worker::apply: its future is ready once the worker's own loop has switched, so what the server logs as
// `reloaded` is already in effect (here: the listener's dead-peer timers, read back from the listening
// socket).
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config.hpp"
#include "proxy/worker.hpp"
#include "tests/proxy/tcp_info.hpp"

using namespace sixgate;
using namespace sixgate::proxy;
using sixgate::proxy::test::dead_peer_options_of;

namespace {

// A listening socket handed over as -listen fd:N (the worker takes a duplicate, so options set on its copy
// show on this one).
struct InheritedListener {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  InheritedListener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
  }
  ~InheritedListener() { ::close(fd); }
};

std::shared_ptr<const RuntimeConfig> runtime_of(int listen_fd, std::vector<std::string> extra) {
  std::vector<std::string> args{"-listen",       "fd:" + std::to_string(listen_fd),
                                "-mode",         "nat46",
                                "-nat46-prefix", "64:ff9b:1::",
                                "-backend-cidr", "2001:db8:1::/64",
                                "--resolver",    "127.0.0.1:53"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto parsed = parse_proxy_args(args);
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.ok());
  return std::make_shared<const RuntimeConfig>(std::move(parsed).value());
}

// The worker's duplicate of an inherited listener: the other descriptor of this process on the same socket.
int duplicate_of(int fd) {
  struct stat mine {};
  REQUIRE(::fstat(fd, &mine) == 0);
  int found = -1;
  DIR* dir = ::opendir("/proc/self/fd");
  REQUIRE(dir != nullptr);
  while (const dirent* entry = ::readdir(dir)) {
    const int other = std::atoi(entry->d_name);
    struct stat st {};
    if (other != fd && other != ::dirfd(dir) && entry->d_name[0] != '.' && ::fstat(other, &st) == 0 &&
        st.st_dev == mine.st_dev && st.st_ino == mine.st_ino)
      found = other;
  }
  ::closedir(dir);
  REQUIRE(found >= 0);
  return found;
}

// A started worker on an inherited listener, keepalive off.
struct RunningWorker {
  InheritedListener listener;
  std::atomic<std::size_t> active{0};
  ClientCounts clients;
  Worker worker{0, EventLoop::create().value(), runtime_of(listener.fd, {"--keepalive", "off"}), active,
                clients};
  RunningWorker() {
    REQUIRE(worker.prepare().ok());
    worker.start();
  }
};

}  // namespace

TEST_CASE("a worker's apply is answered once the new dead-peer timers are on the listening socket") {
  RunningWorker rig;
  const InheritedListener& listener = rig.listener;
  Worker& worker = rig.worker;
  CHECK(dead_peer_options_of(listener.fd).on == 0);

  auto applied =
      worker.apply(runtime_of(listener.fd, {"--keepalive", "7s", "--keepalive-interval", "3s",
                                            "--keepalive-count", "4", "--tcp-user-timeout", "45s"}));
  REQUIRE(applied.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const Status status = applied.get();
  INFO((status ? std::string() : status.error().message));
  CHECK(status.ok());
  auto timers = dead_peer_options_of(listener.fd);
  CHECK(timers.on == 1);
  CHECK(timers.idle == 7);
  CHECK(timers.interval == 3);
  CHECK(timers.probes == 4);
  CHECK(timers.user_timeout_ms == 45000);

  auto next = worker.apply(runtime_of(listener.fd, {"--keepalive", "7s", "--keepalive-interval", "3s",
                                                    "--keepalive-count", "4", "--resolver", "127.0.0.2:53"}));
  REQUIRE(next.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(next.get().ok());  // a new resolver, the same keepalive, the user timeout off again
  timers = dead_peer_options_of(listener.fd);
  CHECK(timers.idle == 7);
  CHECK(timers.user_timeout_ms == 0);
  worker.stop_and_join();
}

TEST_CASE("listener timers that could not be set are set by the next apply, though its values are the same") {
  RunningWorker rig;
  const InheritedListener& listener = rig.listener;
  Worker& worker = rig.worker;
  // A UDP socket in place of the worker's copy of the listener: the TCP keepalive options fail on it.
  const int copy = duplicate_of(listener.fd);
  const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(udp >= 0);
  REQUIRE(::dup2(udp, copy) == copy);
  ::close(udp);
  const std::vector<std::string> keepalive{"--keepalive", "7s"};
  auto refused = worker.apply(runtime_of(listener.fd, keepalive));
  REQUIRE(refused.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  const Status failed = refused.get();
  REQUIRE_FALSE(failed.ok());
  CHECK_THAT(failed.error().message, Catch::Contains("fd:"));
  CHECK(dead_peer_options_of(listener.fd).on == 0);

  REQUIRE(::dup2(listener.fd, copy) == copy);  // the listener is back
  auto again = worker.apply(runtime_of(listener.fd, keepalive));
  REQUIRE(again.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(again.get().ok());
  const auto timers = dead_peer_options_of(listener.fd);
  CHECK(timers.on == 1);
  CHECK(timers.idle == 7);
  worker.stop_and_join();
}
