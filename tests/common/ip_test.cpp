#include <catch2/catch.hpp>

#include "common/ip.hpp"

using namespace sixgate;

TEST_CASE("IPv6 formatting follows RFC 5952") {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"2001:DB8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     // first of two equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group is not compressed
      {"2001:db8:0:0:0:1:0:0", "2001:db8::1:0:0"},       // longest run wins
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"fe80::1", "fe80::1"},
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
      {"::ffff:c000:0201", "::ffff:192.0.2.1"},
      {"64:ff9b:1::c000:202", "64:ff9b:1::c000:202"},
      {"2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto a = Ipv6Address::parse(c.in);
    REQUIRE(a.ok());
    CHECK(a->to_string() == c.out);
  }
}

TEST_CASE("bad address text is rejected with a message naming it") {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "garbage", "01.2.3.4 ", " 1.2.3.4"}) {
    INFO(bad);
    auto r = Ipv4Address::parse(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("not an IPv4 address") != std::string::npos);
  }
  for (const char* bad : {"", "2001:db8::1::1", "2001:db8:::1", "12345::", "g::1", "2001:db8::1%eth0",
                          "1.2.3.4", "2001:db8:1:2:3:4:5:6:7"}) {
    INFO(bad);
    CHECK_FALSE(Ipv6Address::parse(bad).ok());
  }
  std::string with_nul("::1\0", 4);
  CHECK_FALSE(Ipv6Address::parse(with_nul).ok());
  CHECK_FALSE(Ipv6Address::parse(std::string(200, '1')).ok());
}

TEST_CASE("prefix parsing") {
  auto p = Ipv6Prefix::parse("2001:db8:1:2:1::/80");
  REQUIRE(p.ok());
  CHECK(p->length() == 80);
  CHECK(p->to_string() == "2001:db8:1:2:1::/80");

  SECTION("host bits are masked") {
    CHECK(Ipv6Prefix::parse("2001:db8::1/64")->to_string() == "2001:db8::/64");
    CHECK(Ipv4Prefix::parse("192.0.2.77/24")->to_string() == "192.0.2.0/24");
    CHECK(Ipv6Prefix::parse("2001:db8:ffff::/33")->to_string() == "2001:db8:8000::/33");
  }
  SECTION("bad prefixes") {
    for (const char* bad :
         {"2001:db8::/129", "2001:db8::/", "2001:db8::/-1", "2001:db8::/64x", "2001:db8::/064",
          "2001:db8::", "/64", "x/64", "", "2001:db8::/99999999999999999999"}) {
      INFO(bad);
      auto r = Ipv6Prefix::parse(bad);
      REQUIRE_FALSE(r.ok());
      CHECK_FALSE(r.error().message.empty());
    }
    CHECK(Ipv6Prefix::parse("2001:db8::/129").error().message.find("0..128") != std::string::npos);
    CHECK_FALSE(Ipv4Prefix::parse("1.2.3/8").ok());
    CHECK_FALSE(Ipv4Prefix::parse("192.0.2.0/33").ok());
  }
  SECTION("bare address only when allowed") {
    CHECK_FALSE(Ipv6Prefix::parse("2001:db8::1").ok());
    auto host = Ipv6Prefix::parse("2001:db8::1", true);
    REQUIRE(host.ok());
    CHECK(host->to_string() == "2001:db8::1/128");
  }
  SECTION("zero length") {
    CHECK(Ipv6Prefix::parse("::/0")->contains(*Ipv6Address::parse("2001:db8::1")));
  }
}

TEST_CASE("contains and prefix of length N") {
  auto p = *Ipv6Prefix::parse("2001:db8:1:2:1::/80");
  CHECK(p.contains(*Ipv6Address::parse("2001:db8:1:2:1::7")));
  CHECK(p.contains(*Ipv6Address::parse("2001:db8:1:2:1:ffff:ffff:ffff")));
  CHECK_FALSE(p.contains(*Ipv6Address::parse("2001:db8:1:2:2::7")));
  CHECK_FALSE(p.contains(*Ipv6Address::parse("2001:db8:1:2::1")));

  auto a = *Ipv6Address::parse("2001:db8:1234:5678:9abc::1");
  CHECK(Ipv6Prefix(a, 56).to_string() == "2001:db8:1234:5600::/56");
  CHECK(Ipv6Prefix(a, 64).to_string() == "2001:db8:1234:5678::/64");
  CHECK(Ipv6Prefix(a, 0).to_string() == "::/0");
  CHECK(Ipv6Prefix(a, 128).to_string() == "2001:db8:1234:5678:9abc::1/128");

  REQUIRE(Ipv6Prefix::make(a, 64).ok());
  CHECK(Ipv6Prefix::make(a, 64)->to_string() == "2001:db8:1234:5678::/64");
  auto too_long = Ipv6Prefix::make(a, 129);
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().message.find("129") != std::string::npos);
  CHECK_FALSE(Ipv4Prefix::make(*Ipv4Address::parse("192.0.2.1"), 33).ok());

  auto p56 = Ipv6Prefix(a, 56);
  CHECK(p56.contains(Ipv6Prefix(a, 64)));
  CHECK_FALSE(Ipv6Prefix(a, 64).contains(p56));
  CHECK(Ipv6Prefix(a, 64).overlaps(p56));
  CHECK_FALSE(Ipv6Prefix(a, 64).overlaps(*Ipv6Prefix::parse("2001:db8:1234:5679::/64")));

  auto v4 = *Ipv4Prefix::parse("198.51.100.0/24");
  CHECK(v4.contains(*Ipv4Address::parse("198.51.100.255")));
  CHECK_FALSE(v4.contains(*Ipv4Address::parse("198.51.101.0")));
}

TEST_CASE("NAT46 embedding into a /96") {
  auto nat = *Ipv6Prefix::parse("64:ff9b:1::/96");
  auto src = embed_ipv4(nat, *Ipv4Address::parse("192.0.2.2"));
  REQUIRE(src.ok());
  CHECK(src->to_string() == "64:ff9b:1::c000:202");
  CHECK(nat.contains(*src));
  CHECK(embed_ipv4(nat, *Ipv4Address::parse("0.0.0.0"))->to_string() == "64:ff9b:1::");
  CHECK(embed_ipv4(nat, *Ipv4Address::parse("255.255.255.255"))->to_string() == "64:ff9b:1::ffff:ffff");

  auto not96 = embed_ipv4(*Ipv6Prefix::parse("64:ff9b:1::/64"), *Ipv4Address::parse("192.0.2.2"));
  REQUIRE_FALSE(not96.ok());
  CHECK(not96.error().message.find("/96") != std::string::npos);
}

TEST_CASE("IPv4-mapped and special addresses") {
  auto mapped = *Ipv6Address::parse("::ffff:198.51.100.9");
  REQUIRE(mapped.is_v4_mapped());
  CHECK(mapped.to_v4_mapped()->to_string() == "198.51.100.9");
  CHECK(Ipv6Address::v4_mapped(*Ipv4Address::parse("198.51.100.9")) == mapped);
  CHECK_FALSE(Ipv6Address::parse("::198.51.100.9")->is_v4_mapped());  // IPv4-compatible, not mapped
  CHECK_FALSE(Ipv6Address::parse("64:ff9b::c000:202")->to_v4_mapped().has_value());

  CHECK(Ipv6Address::parse("::")->is_unspecified());
  CHECK(Ipv6Address::parse("::1")->is_loopback());
  CHECK_FALSE(Ipv6Address::parse("::2")->is_loopback());
  CHECK(Ipv6Address::parse("fe80::1")->is_link_local());
  CHECK(Ipv6Address::parse("febf::1")->is_link_local());
  CHECK_FALSE(Ipv6Address::parse("fec0::1")->is_link_local());
  CHECK(Ipv6Address::parse("ff02::1")->is_multicast());
  CHECK_FALSE(Ipv6Address::parse("2001:db8::1")->is_multicast());
}

TEST_CASE("IPv4 round trip and integer form") {
  auto a = *Ipv4Address::parse("192.0.2.1");
  CHECK(a.to_uint() == 0xc0000201u);
  CHECK(Ipv4Address::from_uint(0xc0000201u) == a);
  CHECK(a.to_string() == "192.0.2.1");
}

TEST_CASE("scoped IPv6 addresses") {
  auto s = ScopedIpv6Address::parse("fe80::1%wg0");
  REQUIRE(s.ok());
  CHECK(s->address.to_string() == "fe80::1");
  CHECK(s->zone == "wg0");
  CHECK(s->to_string() == "fe80::1%wg0");
  CHECK(ScopedIpv6Address::parse("2001:db8::1")->zone.empty());
  CHECK_FALSE(ScopedIpv6Address::parse("fe80::1%").ok());
  CHECK_FALSE(ScopedIpv6Address::parse("fe80::1%a/b").ok());
  CHECK_FALSE(ScopedIpv6Address::parse("fe80::1%averyveryverylongname").ok());
}
