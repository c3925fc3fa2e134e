#pragma once
// A TCP socket's kernel state read back for tests: its counters (segments in and out), for tests that count
// what went over the wire, and its dead-peer timers (keepalive, user timeout).
#include <linux/tcp.h>  // its tcp_info has the segment counters that <netinet/tcp.h>'s lacks
#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

namespace sixgate::proxy::test {

inline tcp_info tcp_info_of(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0);
  return info;
}

struct DeadPeerOptions {
  int on = -1, idle = -1, interval = -1, probes = -1, user_timeout_ms = -1;
};
inline DeadPeerOptions dead_peer_options_of(int fd) {
  DeadPeerOptions k;
  socklen_t len = sizeof(int);
  REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &k.on, &len) == 0);
  REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &k.idle, &len) == 0);
  REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &k.interval, &len) == 0);
  REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &k.probes, &len) == 0);
  REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &k.user_timeout_ms, &len) == 0);
  return k;
}

}  // namespace sixgate::proxy::test
