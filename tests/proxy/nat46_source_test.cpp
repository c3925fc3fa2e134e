// One client IPv4 becomes one NAT46 source address, so every connection of that client leaves from it. The
// source port must be chosen per destination at connect() (IP_BIND_ADDRESS_NO_PORT), not at bind(), or a
// client could hold no more connections than the host has ephemeral ports, over all backends together.
// Towards one backend, though, the ports are the limit, and a connection the proxy closed first (it forwards
// the client's FIN) keeps its port in TIME_WAIT for a minute. Each case runs in a network namespace of its
// own with 8 ephemeral ports.
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/sockets.hpp"
#include "tests/proxy/child_process.hpp"

using namespace sixgate;
using namespace sixgate::proxy;
using sixgate::proxy::test::kChildSkipped;
using sixgate::proxy::test::run_in_child;

namespace {

constexpr int kPorts = 8;       // the namespace's whole ephemeral range
constexpr int kPerBackend = 6;  // 12 in all: more than kPorts, fewer than kPorts per backend
const char* const kSource = "64:ff9b:1::c000:202";
// Not ::1: Linux's default tcp_tw_reuse (2) lets loopback connections reuse a TIME_WAIT port anyway.
const char* const kBackend = "2001:db8::1";

struct Failed {
  std::string what;
};

bool write_sysctl(const char* path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  return static_cast<bool>(f.flush());
}

// In the child: a new network namespace with lo up, kBackend on it, the NAT46 /96 routed to it, kPorts
// ephemeral ports and Linux's default tcp_tw_reuse. False when no namespace can be made here (not root).
bool enter_namespace() {
  if (::unshare(CLONE_NEWNET) != 0) return false;
  const std::string setup = std::string("ip link set lo up && ip -6 addr add ") + kBackend +
                            "/128 dev lo nodad && ip -6 route add local 64:ff9b:1::/96 dev lo";
  if (std::system(setup.c_str()) != 0)
    throw Failed{"could not set up lo, the backend address and the NAT46 route"};
  if (!write_sysctl("/proc/sys/net/ipv4/ip_local_port_range", "40000 " + std::to_string(40000 + kPorts - 1)))
    throw Failed{"could not narrow ip_local_port_range"};
  if (!write_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse", "2")) throw Failed{"could not set tcp_tw_reuse"};
  return true;
}

int listen_on(std::uint16_t port) {
  const int l = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto at = endpoint(Ipv6Address::parse(kBackend).value(), port);
  if (l < 0 || ::bind(l, reinterpret_cast<const sockaddr*>(&at.address), at.length) != 0 ||
      ::listen(l, 64) != 0)
    throw Failed{"listener on port " + std::to_string(port) + ": " + std::strerror(errno)};
  return l;
}

Result<int> connect_from_source(std::uint16_t port) {
  auto fd = start_connect(endpoint(Ipv6Address::parse(kBackend).value(), port),
                          Ipv6Address::parse(kSource).value(), DeadPeerTimers{});
  if (!fd) return fd;
  pollfd out{*fd, POLLOUT, 0};
  if (::poll(&out, 1, 5000) != 1 || connect_result(*fd) != 0) throw Failed{"a connect did not complete"};
  return fd;
}

// Takes a connection from `listener` and checks that it comes from kSource.
int accept_from_source(int listener) {
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  const int a = ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
  if (a < 0) throw Failed{std::string("accept: ") + std::strerror(errno)};
  const std::string seen = to_string(peer);
  if (seen.find(kSource) == std::string::npos) throw Failed{"a backend saw " + seen};
  return a;
}

bool wait_for_eof(int fd) {
  char buf[64];
  pollfd in{fd, POLLIN, 0};
  return ::poll(&in, 1, 5000) == 1 && ::recv(fd, buf, sizeof buf, 0) == 0;
}

// Runs `check` in a child inside its own namespace; a Failed it throws becomes the report.
int in_namespace(int report, const std::function<void()>& check) {
  try {
    if (!enter_namespace()) return kChildSkipped;
    check();
    return 0;
  } catch (const Failed& f) {
    (void)!::write(report, f.what.data(), f.what.size());
    return 1;
  }
}

void expect_passed_in_namespace(const std::function<void()>& check) {
  const auto child = run_in_child([&](int report) { return in_namespace(report, check); });
  if (child.exit_code == kChildSkipped) {
    WARN("no network namespace could be made (not root?): nothing checked");
    return;
  }
  INFO(child.report);
  CHECK(child.exit_code == 0);
}

}  // namespace

TEST_CASE(
    "NAT46 source: one client holds more connections than there are ephemeral ports (netns, needs root)") {
  expect_passed_in_namespace([] {
    std::vector<int> listeners{listen_on(5001), listen_on(5002)};
    std::size_t connected = 0;
    for (std::uint16_t port : {5001, 5002}) {
      for (int i = 0; i < kPerBackend; ++i) {
        if (auto fd = connect_from_source(port); !fd)
          throw Failed{"connection " + std::to_string(connected + 1) + ": " + fd.error().message};
        ++connected;
      }
    }
    for (int l : listeners)
      for (int i = 0; i < kPerBackend; ++i) ::close(accept_from_source(l));
  });
}

TEST_CASE(
    "NAT46 source: connections the proxy closed first hold their ports towards that backend until "
    "tcp_tw_reuse=1 (netns, needs root)") {
  // What proxy/README.md tells the operator: with Linux's defaults, new connections from one client IPv4 to
  // one backend address and port are limited to the ephemeral ports per TIME_WAIT minute; tcp_tw_reuse=1
  // lets a port whose TIME_WAIT is over a second old be taken again.
  expect_passed_in_namespace([] {
    const int listener = listen_on(5001);
    for (int i = 0; i < kPorts; ++i) {
      auto fd = connect_from_source(5001);
      if (!fd) throw Failed{"connection " + std::to_string(i + 1) + ": " + fd.error().message};
      const int backend = accept_from_source(listener);
      ::shutdown(*fd, SHUT_WR);  // the client's FIN, forwarded: the proxy's side closes first
      if (!wait_for_eof(backend)) throw Failed{"the backend saw no FIN"};
      ::close(backend);
      if (!wait_for_eof(*fd)) throw Failed{"the proxy's side saw no FIN"};
      ::close(*fd);  // now in TIME_WAIT
    }
    auto refused = connect_from_source(5001);
    if (refused) throw Failed{"a ninth connection found a port while eight are in TIME_WAIT"};
    if (refused.error().message.find(std::strerror(EADDRNOTAVAIL)) == std::string::npos)
      throw Failed{"the ninth connection failed otherwise: " + refused.error().message};
    if (!write_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse", "1")) throw Failed{"could not set tcp_tw_reuse"};
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // reuse needs a TIME_WAIT over 1 s old
    auto reused = connect_from_source(5001);
    if (!reused) throw Failed{"with tcp_tw_reuse=1: " + reused.error().message};
    ::close(accept_from_source(listener));
  });
}
