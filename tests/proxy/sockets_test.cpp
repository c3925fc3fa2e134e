// Socket plumbing: a source-bound connect whose socket options cannot be set is an error naming the option,
// never a silently different socket.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "proxy/sockets.hpp"

using namespace sixgate;
using namespace sixgate::proxy;

TEST_CASE("a NAT46 source option that cannot be set is an error naming it") {
  // An IPv4 socket has no IPV6_FREEBIND: the option fails before any bind is tried.
  auto to = endpoint(Ipv4Address::parse("127.0.0.1").value(), 9);
  auto source = Ipv6Address::parse("64:ff9b:1::c000:202").value();
  auto fd = start_connect(to, source);
  REQUIRE_FALSE(fd.ok());
  CHECK_THAT(fd.error().message, Catch::Contains("IPV6_FREEBIND"));
  CHECK_THAT(fd.error().message, Catch::Contains("64:ff9b:1::c000:202"));
}

TEST_CASE("a connect without a source starts on a non-blocking socket") {
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  auto fd = start_connect(endpoint(Ipv4Address::parse("127.0.0.1").value(), ntohs(a.sin_port)), std::nullopt);
  REQUIRE(fd.ok());
  CHECK((::fcntl(*fd, F_GETFL) & O_NONBLOCK) != 0);  // the relay and the connect wait rely on it
  ::close(*fd);
  ::close(listener);
}

TEST_CASE("an accepted socket inherits TCP_NODELAY from the listener") {
  // The worker sets no option per accepted connection; this is the kernel behaviour it relies on.
  ListenSpec spec;
  spec.address = "127.0.0.1";
  spec.text = "tcp:127.0.0.1:0";
  auto listener = open_listener(spec);
  REQUIRE(listener.ok());
  sockaddr_in a{};
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(*listener, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  auto client =
      start_connect(endpoint(Ipv4Address::parse("127.0.0.1").value(), ntohs(a.sin_port)), std::nullopt);
  REQUIRE(client.ok());
  pollfd in{*listener, POLLIN, 0};
  REQUIRE(::poll(&in, 1, 5000) == 1);
  int accepted = ::accept4(*listener, nullptr, nullptr, SOCK_CLOEXEC);
  REQUIRE(accepted >= 0);
  int nodelay = 0;
  len = sizeof nodelay;
  REQUIRE(::getsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len) == 0);
  CHECK(nodelay == 1);
  ::close(accepted);
  ::close(*client);
  ::close(*listener);
}
