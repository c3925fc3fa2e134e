// One client IPv4 becomes one NAT46 source address, so every connection of that client leaves from it. The
// source port must be chosen per destination at connect() (IP_BIND_ADDRESS_NO_PORT), not at bind(), or a
// client could hold no more connections than the host has ephemeral ports, over all backends together.
// Shown in a network namespace of its own with 8 ephemeral ports: 12 connections from one source to two
// backends.
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
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

// In a child, inside a new network namespace. Writes what went wrong to `report` (a pipe) and exits non-zero.
int connect_many(int report) {
  auto fail = [&](const std::string& what) {
    (void)!::write(report, what.data(), what.size());
    return 1;
  };
  if (::unshare(CLONE_NEWNET) != 0) return kChildSkipped;  // not root, or no network namespaces here
  if (std::system("ip link set lo up && ip -6 route add local 64:ff9b:1::/96 dev lo") != 0)
    return fail("could not set up lo and the NAT46 route");
  {
    std::ofstream range("/proc/sys/net/ipv4/ip_local_port_range");
    range << "40000 " << 40000 + kPorts - 1;
    if (!range.flush()) return fail("could not narrow ip_local_port_range");
  }
  std::vector<int> listeners;
  for (std::uint16_t port : {5001, 5002}) {
    const int l = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto at = endpoint(Ipv6Address::parse("::1").value(), port);
    if (l < 0 || ::bind(l, reinterpret_cast<const sockaddr*>(&at.address), at.length) != 0 ||
        ::listen(l, 64) != 0)
      return fail("listener on port " + std::to_string(port) + ": " + std::strerror(errno));
    listeners.push_back(l);
  }
  const auto source = Ipv6Address::parse(kSource).value();
  std::vector<int> connections;
  for (std::uint16_t port : {5001, 5002}) {
    for (int i = 0; i < kPerBackend; ++i) {
      auto fd = start_connect(endpoint(Ipv6Address::parse("::1").value(), port), source, DeadPeerTimers{});
      if (!fd)
        return fail("connection " + std::to_string(connections.size() + 1) + ": " + fd.error().message);
      connections.push_back(*fd);
    }
  }
  for (int fd : connections) {
    pollfd out{fd, POLLOUT, 0};
    if (::poll(&out, 1, 5000) != 1 || connect_result(fd) != 0) return fail("a connect did not complete");
  }
  for (int l : listeners) {
    for (int i = 0; i < kPerBackend; ++i) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      const int a = ::accept4(l, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
      if (a < 0) return fail(std::string("accept: ") + std::strerror(errno));
      const std::string seen = to_string(peer);
      if (seen.find(kSource) == std::string::npos) return fail("a backend saw " + seen);
      ::close(a);
    }
  }
  return 0;
}

}  // namespace

TEST_CASE(
    "NAT46 source: one client holds more connections than there are ephemeral ports (netns, needs root)") {
  const auto child = run_in_child(connect_many);
  if (child.exit_code == kChildSkipped) {
    WARN("no network namespace could be made (not root?): nothing checked");
    return;
  }
  INFO(child.report);
  CHECK(child.exit_code == 0);
}
