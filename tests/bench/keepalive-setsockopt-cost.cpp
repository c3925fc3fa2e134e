// What the four keepalive setsockopt calls add to a backend socket's set-up, outside any harness: creates,
// configures (TCP_NODELAY, as start_connect does, with and without SO_KEEPALIVE, TCP_KEEPIDLE,
// TCP_KEEPINTVL, TCP_KEEPCNT) and closes 200,000 unconnected sockets per round and prints µs per socket.
// Build:  g++ -O2 -std=c++20 -o /tmp/keepalive-cost tests/bench/keepalive-setsockopt-cost.cpp
// Run:    /tmp/keepalive-cost
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

int main() {
  constexpr int kSockets = 200000;
  for (int round = 0; round < 3; ++round) {
    for (bool keepalive : {false, true}) {
      const auto started = std::chrono::steady_clock::now();
      for (int i = 0; i < kSockets; ++i) {
        const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        const int one = 1, idle = 15, interval = 15, probes = 9;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (keepalive) {
          ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
          ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
          ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
          ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
        }
        ::close(fd);
      }
      const std::chrono::duration<double, std::micro> took = std::chrono::steady_clock::now() - started;
      std::printf("round %d, %s: %.2f us per socket\n", round, keepalive ? "with keepalive" : "without",
                  took.count() / kSockets);
    }
  }
}
