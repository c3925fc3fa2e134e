// Bytes the proxy writes itself: the TLS alert and the PROXY protocol v2 header.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "proxy/core/proxy_protocol.hpp"
#include "proxy/core/tls_alert.hpp"

using namespace sixgate::proxy;
using Bytes = std::vector<std::uint8_t>;

namespace {

sockaddr_storage v4(const char* addr, std::uint16_t port) {
  sockaddr_storage ss{};
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, addr, &sa.sin_addr) == 1);
  std::memcpy(&ss, &sa, sizeof sa);
  return ss;
}

sockaddr_storage v6(const char* addr, std::uint16_t port) {
  sockaddr_storage ss{};
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  REQUIRE(inet_pton(AF_INET6, addr, &sa.sin6_addr) == 1);
  std::memcpy(&ss, &sa, sizeof sa);
  return ss;
}

const Bytes kSignature{0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

Bytes with_signature(Bytes rest) {
  Bytes out = kSignature;
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace

TEST_CASE("tls_alert builds a fatal alert record", "[wire]") {
  CHECK(tls_alert(kAlertUnrecognizedName) ==
        std::array<std::uint8_t, 7>{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 112});
  CHECK(tls_alert(kAlertInternalError)[6] == 80);
  CHECK(tls_alert(kAlertHandshakeFailure)[6] == 40);
}

TEST_CASE("proxy_v2_header: TCP over IPv4", "[wire]") {
  CHECK(proxy_v2_header(v4("192.0.2.10", 51234), v4("198.51.100.1", 443)) ==
        with_signature({0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 10, 198, 51, 100, 1, 0xC8, 0x22, 0x01, 0xBB}));
}

TEST_CASE("proxy_v2_header: IPv4 clients on a dual-stack socket are sent as IPv4", "[wire]") {
  CHECK(proxy_v2_header(v6("::ffff:192.0.2.10", 51234), v6("::ffff:198.51.100.1", 443)) ==
        with_signature({0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 10, 198, 51, 100, 1, 0xC8, 0x22, 0x01, 0xBB}));
}

TEST_CASE("proxy_v2_header: TCP over IPv6, and mixed families as IPv4-mapped IPv6", "[wire]") {
  const Bytes v6_header = with_signature(
      {0x21, 0x21, 0x00, 0x24, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
       0,    0,    0,    0x01,                                                     // src 2001:db8::1
       0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0x02,  // dst 2001:db8::2
       0x30, 0x39, 0x20, 0xFB});                                                   // 12345, 8443
  CHECK(proxy_v2_header(v6("2001:db8::1", 12345), v6("2001:db8::2", 8443)) == v6_header);

  const Bytes mixed =
      with_signature({0x21, 0x21, 0x00, 0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10,  // src
                      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    0x02,                 // dst
                      0x00, 0x50, 0x01, 0xBB});
  CHECK(proxy_v2_header(v4("192.0.2.10", 80), v6("2001:db8::2", 443)) == mixed);
}

TEST_CASE("proxy_v2_header: other families are UNSPEC with no addresses", "[wire]") {
  sockaddr_storage unix_addr{};
  unix_addr.ss_family = AF_UNIX;
  CHECK(proxy_v2_header(unix_addr, v4("192.0.2.1", 1)) == with_signature({0x21, 0x00, 0x00, 0x00}));
}
