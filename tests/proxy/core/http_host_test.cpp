#include "proxy/core/http_host.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace sixgate::proxy;
using State = HttpHostParser::State;

namespace {

struct Outcome {
  State state;
  std::string host;
  std::string reason;
  std::size_t consumed;
};

Outcome parse(std::string_view head, std::size_t chunk = 0, std::size_t max = 16384) {
  HttpHostParser p(max);
  const std::vector<std::uint8_t> b(head.begin(), head.end());
  std::span<const std::uint8_t> rest(b);
  if (chunk == 0) chunk = b.size() + 1;
  while (!rest.empty() && p.state() == State::need_more) {
    const auto n = std::min(chunk, rest.size());
    p.feed(rest.first(n));
    rest = rest.subspan(n);
  }
  return {p.state(), p.host(), std::string(p.failure_reason()), p.consumed()};
}

}  // namespace

TEST_CASE("HttpHostParser finds the one Host header", "[http_host]") {
  struct Case {
    std::string what;
    std::string head;
    State state;
    std::string host_or_reason;
  };
  const std::vector<Case> cases{
      {"minimal", "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", State::done, "a.example"},
      {"with port", "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", State::done, "a.example"},
      {"empty port", "GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n", State::done, "a.example"},
      {"case and whitespace", "GET / HTTP/1.1\r\nhOsT:\t A.Example \t\r\nAccept: */*\r\n\r\n", State::done,
       "A.Example"},
      {"no space after colon", "GET / HTTP/1.1\r\nHost:a.example\r\n\r\n", State::done, "a.example"},
      {"other headers first",
       "POST /x?y=1 HTTP/1.0\r\nUser-Agent: t\r\nContent-Length: 0\r\nHost: b.example\r\n\r\n", State::done,
       "b.example"},
      {"asterisk form", "OPTIONS * HTTP/1.1\r\nHost: c.example\r\n\r\n", State::done, "c.example"},
      {"IPv6 literal, brackets stripped", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n", State::done,
       "2001:db8::1"},
      {"IPv4 literal returned raw", "GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n", State::done, "192.0.2.1"},
      {"no Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", State::failed, "no_host"},
      {"two Host headers", "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", State::failed,
       "duplicate_host"},
      {"two Host headers, same value", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", State::failed,
       "duplicate_host"},
      {"empty Host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", State::failed, "bad_host"},
      {"Host with space inside", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", State::failed, "bad_host"},
      {"Host with bad port", "GET / HTTP/1.1\r\nHost: a.example:http\r\n\r\n", State::failed, "bad_host"},
      {"Host with port too big", "GET / HTTP/1.1\r\nHost: a.example:65536\r\n\r\n", State::failed,
       "bad_host"},
      {"Host with two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", State::failed, "bad_host"},
      {"Host with only a port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", State::failed, "bad_host"},
      {"unclosed bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", State::failed, "bad_host"},
      {"junk after bracket", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", State::failed, "bad_host"},
      {"obs-fold", "GET / HTTP/1.1\r\nHost: a.example\r\n  continued\r\n\r\n", State::failed, "obs_fold"},
      {"obs-fold with tab", "GET / HTTP/1.1\r\nX: 1\r\n\tmore\r\nHost: a\r\n\r\n", State::failed, "obs_fold"},
      {"space before colon", "GET / HTTP/1.1\r\nHost : a.example\r\n\r\n", State::failed, "bad_header"},
      {"header without colon", "GET / HTTP/1.1\r\nHost a.example\r\n\r\n", State::failed, "bad_header"},
      {"control byte in a value", std::string("GET / HTTP/1.1\r\nX: a\0b\r\nHost: a\r\n\r\n", 35),
       State::failed, "bad_header"},
      {"bare LF", "GET / HTTP/1.1\nHost: a.example\n\n", State::failed, "bad_line_end"},
      {"bare LF in a header", "GET / HTTP/1.1\r\nHost: a.example\n\r\n", State::failed, "bad_line_end"},
      {"bare CR", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", State::failed, "bad_line_end"},
      {"HTTP/2 version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", State::failed, "bad_request_line"},
      {"HTTP/0.9 style", "GET /\r\n\r\n", State::failed, "bad_request_line"},
      {"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", State::failed, "bad_request_line"},
      {"leading blank line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", State::failed, "bad_request_line"},
      {"absolute form", "GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n", State::failed,
       "unsupported_target"},
      {"authority form", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example\r\n\r\n", State::failed,
       "unsupported_target"},
      {"incomplete head", "GET / HTTP/1.1\r\nHost: a.example\r\n", State::need_more, ""},
      {"incomplete request line", "GET / HT", State::need_more, ""},
  };
  for (const auto& c : cases) {
    for (std::size_t chunk : {0, 1, 7}) {
      INFO(c.what << ", chunk " << chunk);
      const auto o = parse(c.head, chunk);
      CHECK(o.state == c.state);
      if (c.state == State::done) {
        CHECK(o.host == c.host_or_reason);
        CHECK(o.consumed == c.head.size());
      } else {
        CHECK(o.reason == c.host_or_reason);
        if (c.state == State::failed) CHECK(o.host.empty());
      }
    }
  }
}

TEST_CASE("HttpHostParser bounds the head and ignores what follows it", "[http_host]") {
  const std::string head = "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n";
  CHECK(parse(head, 0, head.size()).state == State::done);
  const auto o = parse(head, 1, head.size() - 1);
  CHECK(o.state == State::failed);
  CHECK(o.reason == "too_large");
  CHECK(o.consumed == head.size());

  const auto body = parse(head + "BODY\r\n\n\n", 3);
  CHECK(body.state == State::done);
  CHECK(body.consumed == head.size());

  std::string endless = "GET / HTTP/1.1\r\nX: ";
  endless.append(20000, 'a');
  CHECK(parse(endless, 1000).reason == "too_large");
}
