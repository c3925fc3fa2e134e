#include "proxy/core/client_hello.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "proxy/core/hostname.hpp"
#include "tests/proxy/core/hello_builder.hpp"

using namespace sixgate::proxy;
using namespace sixgate::proxy::test;
using State = ClientHelloParser::State;

namespace {

struct Outcome {
  State state;
  std::string reason;
  std::optional<std::string> name;
  std::size_t consumed;
};

// Feeds `bytes` in chunks of `chunk` bytes (0 = all at once).
Outcome parse(const Bytes& bytes, std::size_t chunk = 0, HelloLimits limits = {}) {
  ClientHelloParser p(limits);
  std::span<const std::uint8_t> rest(bytes);
  if (chunk == 0) chunk = bytes.size() + 1;
  while (!rest.empty() && p.state() == State::need_more) {
    const auto n = std::min(chunk, rest.size());
    p.feed(rest.first(n));
    rest = rest.subspan(n);
  }
  return {p.state(), std::string(p.failure_reason()), p.server_name(), p.consumed()};
}

Bytes basic_message(const std::string& name = "www.example.test") {
  return HelloBuilder().sni(name).alpn({"h2", "http/1.1"}).message();
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("ClientHello: a plain hello gives its SNI and ALPN", "[client_hello]") {
  const Bytes wire = record(basic_message());
  ClientHelloParser p;
  CHECK(p.feed(wire) == State::done);
  REQUIRE(p.server_name());
  CHECK(*p.server_name() == "www.example.test");
  CHECK(p.alpn() == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(p.consumed() == wire.size());
  CHECK(p.failure_reason().empty());
}

TEST_CASE("ClientHello: the outcome is the same for every feeding pattern and record split",
          "[client_hello]") {
  const Bytes message = basic_message();
  SECTION("one byte per feed") {
    const auto o = parse(record(message), 1);
    CHECK(o.state == State::done);
    CHECK(o.name == "www.example.test");
  }
  SECTION("one byte per record, fed one byte at a time") {
    const auto o = parse(records(message, 1), 1);
    CHECK(o.state == State::done);
    CHECK(o.name == "www.example.test");
  }
  SECTION("two records split at every position, the stream split at every position") {
    for (std::size_t cut = 1; cut < message.size(); ++cut) {
      Bytes wire = record(Bytes(message.begin(), message.begin() + cut));
      put(wire, record(Bytes(message.begin() + cut, message.end())));
      for (std::size_t split = 0; split < wire.size(); ++split) {
        ClientHelloParser p;
        p.feed(std::span(wire).first(split));
        const auto s = p.feed(std::span(wire).subspan(split));
        INFO("record cut " << cut << ", stream split " << split);
        REQUIRE(s == State::done);
        REQUIRE(p.server_name() == "www.example.test");
        REQUIRE(p.consumed() == wire.size());
      }
    }
  }
  SECTION("N equal records") {
    for (std::size_t size : {2, 3, 7, 50}) {
      INFO("record payload " << size);
      const auto o = parse(records(message, size), 5);
      CHECK(o.state == State::done);
      CHECK(o.name == "www.example.test");
    }
  }
}

TEST_CASE("ClientHello: hellos without SNI", "[client_hello]") {
  SECTION("extensions but no server_name") {
    const auto o = parse(record(HelloBuilder().alpn({"h2"}).message()));
    CHECK(o.state == State::done);
    CHECK_FALSE(o.name);
  }
  SECTION("no extensions block at all") {
    const auto o = parse(record(HelloBuilder().without_extensions_block().message()));
    CHECK(o.state == State::done);
    CHECK_FALSE(o.name);
  }
  SECTION("an empty extensions block") {
    const auto o = parse(record(HelloBuilder().message()));
    CHECK(o.state == State::done);
    CHECK_FALSE(o.name);
  }
  SECTION("server_name with only a non-host_name entry") {
    const auto o = parse(record(HelloBuilder().sni_entries({{1, "other"}}).message()));
    CHECK(o.state == State::done);
    CHECK_FALSE(o.name);
  }
}

TEST_CASE("ClientHello: server_name list entries", "[client_hello]") {
  SECTION("a non-host_name entry before the host_name is skipped") {
    const auto o = parse(record(HelloBuilder().sni_entries({{7, "skip.me"}, {0, "a.example"}}).message()));
    CHECK(o.state == State::done);
    CHECK(o.name == "a.example");
  }
  SECTION("only the first host_name is used") {
    const auto o =
        parse(record(HelloBuilder().sni_entries({{0, "first.example"}, {0, "second.example"}}).message()));
    CHECK(o.state == State::done);
    CHECK(o.name == "first.example");
  }
  SECTION("an embedded NUL is returned raw and canonicalisation refuses it") {
    const std::string raw("evil.example\0.good.example", 26);
    const auto o = parse(record(HelloBuilder().sni(raw).message()));
    CHECK(o.state == State::done);
    REQUIRE(o.name);
    CHECK(*o.name == raw);
    CHECK_FALSE(canonical_hostname(*o.name).ok());
  }
  SECTION("an empty server_name_list fails") {
    const auto o = parse(record(HelloBuilder().sni_entries({}).message()));
    CHECK(o.state == State::failed);
    CHECK(o.reason == "bad_sni");
  }
  SECTION("an empty host_name fails") {
    const auto o = parse(record(HelloBuilder().sni("").message()));
    CHECK(o.state == State::failed);
    CHECK(o.reason == "bad_sni");
  }
  SECTION("a server_name extension with no data fails") {
    const auto o = parse(record(HelloBuilder().extension(kServerName, {}).message()));
    CHECK(o.state == State::failed);
    CHECK(o.reason == "bad_sni");
  }
  SECTION("two server_name extensions fail") {
    const auto o = parse(record(HelloBuilder().sni("a.example").sni("b.example").message()));
    CHECK(o.state == State::failed);
    CHECK(o.reason == "duplicate_extension");
  }
  SECTION("name_len overflowing the list fails") {
    Bytes m = basic_message();
    HelloBuilder b;
    b.sni("www.example.test").alpn({"h2", "http/1.1"}).message();
    for (const auto& f : b.length_fields()) {
      if (f.name == "server_name name_len") HelloBuilder::set(m, f.offset, 0xffff, 2);
    }
    const auto o = parse(record(m));
    CHECK(o.state == State::failed);
    CHECK(o.reason == "bad_length");
  }
}

TEST_CASE("ClientHello: any extension order, GREASE, post-quantum key share", "[client_hello]") {
  SECTION("GREASE extensions and cipher suites around the SNI") {
    const auto m = HelloBuilder()
                       .cipher_suites({0x2a2a, 0x1301, 0x1302})
                       .extension(0x0a0a, {})
                       .extension(kSupportedGroups, {0, 4, 0x4a, 0x4a, 0, 0x1d})
                       .sni("grease.example")
                       .extension(0xfafa, {0})
                       .message();
    const auto o = parse(record(m), 1);
    CHECK(o.state == State::done);
    CHECK(o.name == "grease.example");
  }
  SECTION("SNI last, after a 1.2 KB X25519MLKEM768 key share") {
    const auto m = HelloBuilder()
                       .extension(kSupportedVersions, {4, 0x03, 0x04, 0x03, 0x03})
                       .pq_key_share()
                       .alpn({"h2"})
                       .sni("pq.example")
                       .message();
    REQUIRE(m.size() > 1300);
    for (std::size_t chunk : {0, 1, 100}) {
      const auto o = parse(records(m, 500), chunk);
      CHECK(o.state == State::done);
      CHECK(o.name == "pq.example");
    }
  }
  SECTION("a captured Chromium hello (post-quantum, GREASE)") {
    const auto wire = read_file(std::filesystem::path(__FILE__).parent_path() / "data" / "chromium156.bin");
    for (std::size_t chunk : {0, 1, 2, 1000}) {
      ClientHelloParser p;
      std::span<const std::uint8_t> rest(wire);
      const std::size_t n = chunk == 0 ? wire.size() : chunk;
      while (!rest.empty()) {
        p.feed(rest.first(std::min(n, rest.size())));
        rest = rest.subspan(std::min(n, rest.size()));
      }
      CHECK(p.state() == State::done);
      CHECK(p.server_name() == "www.example.test");
      CHECK(p.alpn() == std::vector<std::string>{"h2", "http/1.1"});
      CHECK(p.consumed() == wire.size());
    }
  }
}

TEST_CASE("ClientHello: large hellos", "[client_hello]") {
  SECTION("20 KB hello in two records") {
    const auto m = HelloBuilder().padding(20000).sni("big.example").message();
    REQUIRE(m.size() > 16384);
    const auto o = parse(records(m, 16384));
    CHECK(o.state == State::done);
    CHECK(o.name == "big.example");
  }
  HelloBuilder b;
  b.sni("limit.example");
  const std::size_t base = b.message().size() + 4;  // +4: the padding extension's header
  SECTION("exactly the default limit of 65540 bytes is accepted") {
    const auto m = HelloBuilder(b).padding(65540 - base).message();
    REQUIRE(m.size() == 65540);
    const auto o = parse(records(m, 16384), 4096);
    CHECK(o.state == State::done);
    CHECK(o.name == "limit.example");
  }
  SECTION("one byte more is too_large, decided from the header alone") {
    const auto m = HelloBuilder(b).padding(65541 - base).message();
    const auto o = parse(records(m, 16384), 1);
    CHECK(o.state == State::failed);
    CHECK(o.reason == "too_large");
    CHECK(o.consumed == 9);  // record header + handshake header
  }
  SECTION("a configured smaller limit") {
    const auto m = basic_message();
    CHECK(parse(record(m), 0, {.max_hello_bytes = m.size()}).state == State::done);
    CHECK(parse(record(m), 0, {.max_hello_bytes = m.size() - 1}).reason == "too_large");
  }
  SECTION("a 16 MB handshake length") {
    Bytes m = basic_message();
    HelloBuilder::set(m, 1, 0xffffff, 3);
    CHECK(parse(record(m)).reason == "too_large");
  }
}

TEST_CASE("ClientHello: record layer", "[client_hello]") {
  const Bytes m = basic_message();
  struct Case {
    std::string what;
    Bytes wire;
    State state;
    std::string reason;
  };
  const Bytes half1(m.begin(), m.begin() + 20), half2(m.begin() + 20, m.end());
  Bytes ccs_between = record(half1);
  put(ccs_between, record({1}, 0x14));
  put(ccs_between, record(half2));
  Bytes alert_between = record(half1);
  put(alert_between, record({2, 40}, 0x15));
  Bytes empty_between = record(half1);
  put(empty_between, record({}));
  put(empty_between, record(half2));
  Bytes oversized = record(m);
  HelloBuilder::set(oversized, 3, 16385, 2);
  oversized.resize(5 + 16385, 0);
  const std::vector<Case> cases{
      {"record version 0x0300", record(m, 0x16, 0x0300), State::done, ""},
      {"record version 0x0303", record(m, 0x16, 0x0303), State::done, ""},
      {"record version 0x0304", record(m, 0x16, 0x0304), State::done, ""},
      {"record version 0x0305", record(m, 0x16, 0x0305), State::failed, "bad_record"},
      {"record version 0x0201", record(m, 0x16, 0x0201), State::failed, "bad_record"},
      {"ChangeCipherSpec record inside the hello", ccs_between, State::failed, "bad_record"},
      {"alert record inside the hello", alert_between, State::failed, "bad_record"},
      {"zero-length first record", record({}), State::failed, "bad_record"},
      {"zero-length record inside the hello", empty_between, State::failed, "bad_record"},
      {"record longer than 2^14", oversized, State::failed, "bad_record"},
      {"first record is application data", record(m, 0x17), State::failed, "not_tls"},
      {"plain HTTP", Bytes{'G', 'E', 'T', ' ', '/'}, State::failed, "not_tls"},
      {"SSLv2-compatible hello", Bytes{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15}, State::failed, "sslv2"},
      {"high bit set but not an SSLv2 hello", Bytes{0x80, 0x2e, 0x04, 0x03}, State::failed, "not_tls"},
      {"ServerHello instead of ClientHello", record(Bytes{2, 0, 0, 0}), State::failed, "not_client_hello"},
      {"only a record header", Bytes{0x16, 3, 1, 0, 50}, State::need_more, ""},
  };
  for (const auto& c : cases) {
    for (std::size_t chunk : {0, 1}) {
      INFO(c.what << ", chunk " << chunk);
      const auto o = parse(c.wire, chunk);
      CHECK(o.state == c.state);
      CHECK(o.reason == c.reason);
      if (c.state == State::done) CHECK(o.name == "www.example.test");
    }
  }
}

TEST_CASE("ClientHello: every length field corrupted by +1, -1 and its maximum", "[client_hello]") {
  HelloBuilder b;
  b.sni_entries({{0, "www.example.test"}, {5, "x"}})
      .extension(kSupportedGroups, {0, 2, 0, 0x1d})
      .alpn({"h2", "h3"});
  const Bytes m = b.message();
  REQUIRE(parse(record(m)).state == State::done);
  for (const auto& f : b.length_fields()) {
    const std::size_t v = HelloBuilder::get(m, f.offset, f.size);
    const std::size_t max = (std::size_t{1} << (8 * f.size)) - 1;
    for (std::size_t bad : {v + 1, v - 1, max}) {
      if (bad == v || bad > max) continue;
      Bytes corrupt = m;
      HelloBuilder::set(corrupt, f.offset, bad, f.size);
      INFO(f.name << " set from " << v << " to " << bad);
      const auto o = parse(record(corrupt), 1);
      if (f.name == "handshake length" && bad > v) {
        // Either the extensions length no longer matches, or the record ends before the message does and
        // the parser waits for the next record (the hello timeout then ends the connection).
        CHECK(o.state != State::done);
      } else {
        CHECK(o.state == State::failed);
        CHECK_FALSE(o.reason.empty());
      }
    }
  }
  SECTION("the record length") {
    Bytes longer = record(m), shorter = record(m);
    HelloBuilder::set(longer, 3, m.size() + 1, 2);
    HelloBuilder::set(shorter, 3, m.size() - 1, 2);
    CHECK(parse(longer).state == State::done);  // the hello ends inside the record; the rest is not looked at
    const auto o = parse(shorter);
    CHECK(o.state == State::failed);  // the last byte of the hello is read as a record type
    CHECK(o.reason == "bad_record");
  }
}

TEST_CASE("ClientHello: body fields checked", "[client_hello]") {
  struct Case {
    std::string what;
    Bytes message;
    std::string reason;
  };
  const std::vector<Case> cases{
      {"session id of 33 bytes", HelloBuilder().session_id(Bytes(33, 1)).sni("a.example").message(),
       "bad_length"},
      {"no cipher suites", HelloBuilder().cipher_suites({}).sni("a.example").message(), "bad_length"},
      {"duplicate non-SNI extension", HelloBuilder().extension(23, {}).extension(23, {}).message(),
       "duplicate_extension"},
      {"ALPN with an empty name", HelloBuilder().alpn({""}).message(), "bad_alpn"},
      {"ALPN extension with no data", HelloBuilder().extension(kAlpn, {}).message(), "bad_alpn"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const auto o = parse(record(c.message), 1);
    CHECK(o.state == State::failed);
    CHECK(o.reason == c.reason);
  }
  SECTION("legacy_version must be 3.x") {
    Bytes m = basic_message();
    HelloBuilder::set(m, 4, 0x0203, 2);
    const auto o = parse(record(m));
    CHECK(o.state == State::failed);
    CHECK(o.reason == "bad_version");
  }
  SECTION("an empty session id is fine") {
    CHECK(parse(record(HelloBuilder().session_id({}).sni("a.example").message())).name == "a.example");
  }
}

TEST_CASE("ClientHello: after the hello", "[client_hello]") {
  const Bytes m = basic_message();
  Bytes wire = record(m);
  const std::size_t hello_end = wire.size();
  put(wire, record({1}, 0x14));  // a ChangeCipherSpec after the hello is none of the parser's business
  ClientHelloParser p;
  CHECK(p.feed(wire) == State::done);
  CHECK(p.consumed() == hello_end);
  CHECK(p.feed(Bytes{0xff, 0xff}) == State::done);
  CHECK(p.server_name() == "www.example.test");

  ClientHelloParser failed;
  CHECK(failed.feed(Bytes{'x'}) == State::failed);
  CHECK(failed.feed(record(m)) == State::failed);
  CHECK(failed.failure_reason() == "not_tls");
  CHECK_FALSE(failed.failure_detail().empty());
}

TEST_CASE("ClientHello: ALPN names are bounded", "[client_hello]") {
  HelloBuilder b;
  b.alpn({"a", "b", "c", "d"});
  ClientHelloParser p(HelloLimits{.max_alpn_names = 2});
  CHECK(p.feed(record(b.message())) == State::done);
  CHECK(p.alpn() == std::vector<std::string>{"a", "b"});
}
