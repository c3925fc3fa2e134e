#include "proxy/core/sniff.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace sixgate::proxy;

namespace {
std::vector<std::uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}
}  // namespace

TEST_CASE("sniff classifies first bytes", "[sniff]") {
  using B = std::vector<std::uint8_t>;
  const B pg(kPostgresSslRequest.begin(), kPostgresSslRequest.end());
  B pg_then_more = pg;
  pg_then_more.push_back(0x16);
  struct Case {
    std::string what;
    B input;
    Protocol expected;
  };
  const std::vector<Case> cases{
      {"nothing yet", {}, Protocol::need_more},
      {"TLS handshake record", {0x16}, Protocol::tls},
      {"TLS record header", {0x16, 3, 1, 0, 200}, Protocol::tls},
      {"TLS alert record", {0x15, 3, 1}, Protocol::unknown},
      {"postgres SSLRequest", pg, Protocol::postgres_ssl_request},
      {"postgres SSLRequest and more", pg_then_more, Protocol::postgres_ssl_request},
      {"postgres prefix", B(pg.begin(), pg.begin() + 5), Protocol::need_more},
      {"postgres prefix, 1 byte", {0}, Protocol::need_more},
      {"postgres StartupMessage (no SSL)", {0, 0, 0, 8, 0x00, 0x03, 0x00, 0x00}, Protocol::unknown},
      {"postgres GSSENCRequest", {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}, Protocol::unknown},
      {"GET", bytes("GET / HTTP/1.1\r\n"), Protocol::http},
      {"GET without space yet", bytes("GET"), Protocol::need_more},
      {"G", bytes("G"), Protocol::need_more},
      {"P (POST, PUT, PATCH)", bytes("P"), Protocol::need_more},
      {"PU", bytes("PU"), Protocol::need_more},
      {"PUT ", bytes("PUT "), Protocol::http},
      {"HEAD", bytes("HEAD /x HTTP/1.0"), Protocol::http},
      {"POST", bytes("POST /"), Protocol::http},
      {"DELETE", bytes("DELETE /"), Protocol::http},
      {"OPTIONS", bytes("OPTIONS * HTTP/1.1"), Protocol::http},
      {"PATCH", bytes("PATCH /"), Protocol::http},
      {"CONNECT", bytes("CONNECT a:443 HTTP/1.1"), Protocol::http},
      {"TRACE", bytes("TRACE /"), Protocol::http},
      {"lowercase method", bytes("get / HTTP/1.1"), Protocol::unknown},
      {"method then tab", bytes("GET\t/"), Protocol::unknown},
      {"unknown method", bytes("BREW /pot"), Protocol::unknown},
      {"GETX", bytes("GETX "), Protocol::unknown},
      {"SSH banner", bytes("SSH-2.0-OpenSSH"), Protocol::unknown},
      {"SSLv2 hello", {0x80, 0x2e, 0x01}, Protocol::unknown},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    CHECK(to_string(sniff(c.input)) == to_string(c.expected));
  }
}
