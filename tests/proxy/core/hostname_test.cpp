#include "proxy/core/hostname.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using sixgate::proxy::canonical_hostname;

TEST_CASE("canonical_hostname accepts and normalises DNS names", "[hostname]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"example.com", "example.com"},
      {"WWW.Example.COM", "www.example.com"},
      {"www.example.com.", "www.example.com"},
      {"localhost", "localhost"},
      {"_acme-challenge.x-y.example", "_acme-challenge.x-y.example"},
      {"a", "a"},
      {"pve1.home.example", "pve1.home.example"},
      {"1.2.3.example", "1.2.3.example"},
      {"123.example", "123.example"},
      {"xn--bcher-kva.example", "xn--bcher-kva.example"},
      {"host.0xg", "host.0xg"},
      {std::string(63, 'a') + ".example", std::string(63, 'a') + ".example"},
  };
  for (const auto& [raw, canonical] : cases) {
    INFO(raw);
    const auto r = canonical_hostname(raw);
    REQUIRE(r.ok());
    CHECK(*r == canonical);
  }
  // 253 characters exactly (4 labels of 63 separated by dots = 255, so 3x63 + 61).
  const std::string longest = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') +
                              "." + std::string(61, 'd');
  REQUIRE(longest.size() == 253);
  CHECK(canonical_hostname(longest).ok());
  CHECK(canonical_hostname(longest + ".").ok());
}

TEST_CASE("canonical_hostname refuses what is not a DNS name, saying why", "[hostname]") {
  const std::string too_long = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                               std::string(63, 'c') + "." + std::string(62, 'd');
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "empty"},
      {".", "no labels"},
      {"example.com..", "empty label"},
      {".example.com", "empty label"},
      {"a..b", "empty label"},
      {std::string(64, 'a') + ".example", "longer than 63"},
      {too_long, "longer than 253"},
      {std::string("a\0b.example", 11), "NUL"},
      {"a\x01.example", "control"},
      {"a\x7f.example", "control"},
      {"bad\r\nname", "control"},
      {"b\xc3\xbc"
       "cher.example",
       "non-ASCII"},
      {"a/b.example", "'/'"},
      {"a b.example", "outside [a-z0-9-_]"},
      {"a*.example", "outside [a-z0-9-_]"},
      {"1.2.3.4", "IPv4 literal"},
      {"1.2.3.4.", "IPv4 literal"},
      {"127.1", "IPv4 literal"},
      {"2130706433", "IPv4 literal"},
      {"0x7f000001", "IPv4 literal"},
      {"0X7F.0.0.1", "IPv4 literal"},
      {"example.123", "IPv4 literal"},
      {"::1", "IPv6 literal"},
      {"[::1]", "IPv6 literal"},
      {"2001:db8::1", "IPv6 literal"},
      {"a.example:443", "IPv6 literal"},
  };
  for (const auto& [raw, why] : cases) {
    INFO(raw);
    const auto r = canonical_hostname(raw);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains(why));
  }
}

TEST_CASE("canonical_hostname errors show the name only escaped and bounded", "[hostname]") {
  const auto r = canonical_hostname(std::string("evil\x1b[31m\n") + std::string(5000, 'x'));
  REQUIRE_FALSE(r.ok());
  const auto& m = r.error().message;
  CHECK(m.size() < 400);
  CHECK(m.find('\x1b') == std::string::npos);
  CHECK(m.find('\n') == std::string::npos);
  CHECK_THAT(m, Catch::Contains("evil"));
}
