#pragma once
// A TCP socket's kernel counters (segments in and out), for tests that count what went over the wire.
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

}  // namespace sixgate::proxy::test
