#include <catch2/catch.hpp>
#include <random>

#include "agent/routeros/backoff.hpp"
#include "agent/routeros/certificate_check.hpp"
#include "agent/routeros/errors.hpp"

using namespace sixgate;
using namespace sixgate::agent::routeros;
using namespace std::chrono_literals;

namespace {
bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("HTTP errors name the request, quote the router and say what to do", "[routeros][errors]") {
  auto m401 = describe_http_error("GET", "/rest/ip/route", 401, R"({"error":401,"message":"Unauthorized"})");
  CHECK(has(m401, "GET /rest/ip/route"));
  CHECK(has(m401, "401"));
  CHECK(has(m401, "\"Unauthorized\""));
  CHECK(has(m401, "rest-api"));
  CHECK(has(m401, "user"));

  CHECK(has(describe_http_error("PUT", "/rest/x", 403, ""), "policies"));
  CHECK(has(describe_http_error("GET", "/rest/x/*9", 404, R"({"error":404,"message":"Not Found"})"),
            "no such item"));

  auto m400 = describe_http_error(
      "PATCH", "/rest/ipv6/firewall/mangle/*1", 400,
      R"({"error":400,"message":"Bad Request","detail":"unknown parameter place-before"})");
  CHECK(has(m400, "\"Bad Request\": \"unknown parameter place-before\""));

  auto m500 = describe_http_error("GET", "/rest/x", 500, "<html>oops</html>");
  CHECK(has(m500, "reply \"<html>oops</html>\""));
}

TEST_CASE("the router's text is bounded and escaped in messages", "[routeros][errors]") {
  std::string long_detail(5000, 'A');
  auto m = describe_http_error("PUT", "/rest/x", 400,
                               R"({"error":400,"message":"Bad Request","detail":")" + long_detail + "\"}");
  CHECK(m.size() < 1000);
  auto ctl = describe_http_error("PUT", "/rest/x", 400, "{\"detail\":\"a\x01\x1b[31mb\"}");
  CHECK_FALSE(has(ctl, "\x1b"));
  CHECK_FALSE(has(ctl, "\x01"));
}

TEST_CASE("Session closed is recognised only as the documented 400", "[routeros][errors]") {
  const char* body = R"({"detail":"Session closed","error":400,"message":"Bad Request"})";
  CHECK(is_session_closed(400, body));
  CHECK_FALSE(is_session_closed(500, body));
  CHECK_FALSE(is_session_closed(400, R"({"detail":"unknown parameter x","error":400})"));
  CHECK_FALSE(is_session_closed(400, "garbage"));
  CHECK(has(describe_http_error("GET", "/rest/x", 400, body), "60 s"));
}

TEST_CASE("transport errors give the operator the next step", "[routeros][errors]") {
  const std::string fp(64, 'a');
  auto pin =
      describe_transport_error("GET", "/rest/x", "https://192.0.2.1", TransportFailure::pin, "ssl", fp);
  CHECK(has(pin, fp));
  CHECK(has(pin, "pin"));
  auto tls = describe_transport_error("GET", "/rest/x", "https://192.0.2.1", TransportFailure::tls,
                                      "certificate verify failed", fp);
  CHECK(has(tls, fp));
  CHECK(has(tls, "certificate verify failed"));
  for (auto kind : {TransportFailure::connect, TransportFailure::timeout}) {
    auto m = describe_transport_error("GET", "/rest/x", "https://192.0.2.1", kind, "refused", "");
    CHECK(has(m, "www-ssl enabled and reachable"));
    CHECK(has(m, "https://192.0.2.1"));
  }
}

TEST_CASE("fingerprints are normalised from the usual notations", "[routeros][tls]") {
  std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string colons;
  for (std::size_t i = 0; i < hex.size(); i += 2) colons += (i ? ":" : "") + hex.substr(i, 2);
  for (auto& c : colons) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(*normalize_fingerprint(hex) == hex);
  CHECK(*normalize_fingerprint(colons) == hex);
  CHECK_FALSE(normalize_fingerprint(hex.substr(0, 40)).ok());  // a SHA-1 is not enough
  CHECK_FALSE(normalize_fingerprint(hex + "00").ok());
  auto bad = normalize_fingerprint("zz" + hex.substr(2));
  REQUIRE_FALSE(bad.ok());
  CHECK(has(bad.error().message, "hex"));
}

TEST_CASE("backoff grows exponentially, is capped, and jitters within the ceiling", "[routeros][backoff]") {
  CHECK(backoff_ceiling(0, 200ms, 5000ms) == 200ms);
  CHECK(backoff_ceiling(1, 200ms, 5000ms) == 400ms);
  CHECK(backoff_ceiling(4, 200ms, 5000ms) == 3200ms);
  CHECK(backoff_ceiling(5, 200ms, 5000ms) == 5000ms);
  CHECK(backoff_ceiling(1000, 200ms, 5000ms) == 5000ms);
  std::mt19937 rng(42);
  bool saw_low = false, saw_high = false;
  for (int i = 0; i < 2000; ++i) {
    auto d = backoff_delay(3, 200ms, 5000ms, rng);
    REQUIRE(d >= 0ms);
    REQUIRE(d <= 1600ms);
    saw_low = saw_low || d < 400ms;
    saw_high = saw_high || d > 1200ms;
  }
  CHECK(saw_low);  // full jitter, not "ceiling plus a little"
  CHECK(saw_high);
  CHECK(backoff_delay(2, 0ms, 0ms, rng) == 0ms);
}
