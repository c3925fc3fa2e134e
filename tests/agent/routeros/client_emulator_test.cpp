// The REST client against the RouterOS emulator over real HTTPS on loopback.
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/routeros/client.hpp"
#include "emulator_fixture.hpp"

using namespace sixgate;
using namespace sixgate::agent::routeros;
using sixgate::test::Emulator;
using namespace std::chrono_literals;

namespace {

#define REQUIRE_EMULATOR_TOOLS()                                        \
  if (!sixgate::test::emulator_prerequisites()) {                       \
    WARN("python3 or openssl missing: RouterOS emulator test not run"); \
    return;                                                             \
  }

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

nlohmann::json counters(const Emulator& emu) {
  return nlohmann::json::parse(emu.control("GET", "/_emu/counters"));
}

int count_of(const nlohmann::json& c, const char* verb) {
  return c["requests"].contains(verb) ? c["requests"][verb].get<int>() : 0;
}

std::string with_colons_upper(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    for (char c : hex.substr(i, 2)) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

// A loopback port nobody listens on (bound, then released).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// client.list() with client.abort() called from another thread 300 ms in; how long the list took.
struct AbortedList {
  Result<std::vector<RosObject>> result;
  std::chrono::steady_clock::duration took;
};
AbortedList list_aborted_midway(Client& client, std::string_view menu) {
  const auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    client.abort();
  });
  auto result = client.list(menu);
  const auto took = std::chrono::steady_clock::now() - started;
  stopper.join();
  return {std::move(result), took};
}

}  // namespace

TEST_CASE("client: list/get/add/set/move/remove round trip", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());

  auto tables = client.list("/routing/table");
  REQUIRE(tables.ok());
  REQUIRE(tables->size() == 1);
  CHECK((*tables)[0].at("name") == "main");

  auto table = client.add("routing/table", {{"name", "to-vps"}, {"fib", ""}});
  REQUIRE(table.ok());
  CHECK(table->at(".id").starts_with("*"));
  CHECK(table->at("fib") == "");

  std::vector<std::string> ids;
  for (const char* comment : {"a", "b", "c"}) {
    auto rule = client.add("ipv6/firewall/mangle", {{"chain", "prerouting"},
                                                    {"action", "mark-routing"},
                                                    {"new-routing-mark", "to-vps"},
                                                    {"passthrough", "no"},
                                                    {"src-address", "2001:db8:1:1::/80"},
                                                    {"dst-address-list", "!home6"},
                                                    {"comment", comment}});
    REQUIRE(rule.ok());
    CHECK(rule->at("passthrough") == "false");
    CHECK(rule->at("bytes") == "0");
    ids.push_back(rule->at(".id"));
  }

  auto one = client.get("ipv6/firewall/mangle", ids[1]);
  REQUIRE(one.ok());
  CHECK(one->at("comment") == "b");
  auto by_name = client.get("routing/table", "to-vps");
  REQUIRE(by_name.ok());
  CHECK(by_name->at(".id") == table->at(".id"));

  auto changed = client.set("ipv6/firewall/mangle", ids[1], {{"comment", "b2"}, {"disabled", "yes"}});
  REQUIRE(changed.ok());
  CHECK(changed->at("comment") == "b2");
  CHECK(changed->at("disabled") == "true");
  CHECK(changed->at("src-address") == "2001:db8:1:1::/80");  // the full object comes back

  REQUIRE(client.move("ipv6/firewall/mangle", {ids[2]}, ids[0]).ok());
  auto rules = client.list("ipv6/firewall/mangle");
  REQUIRE(rules.ok());
  REQUIRE(rules->size() == 3);
  CHECK((*rules)[0].at(".id") == ids[2]);
  CHECK((*rules)[1].at(".id") == ids[0]);
  CHECK((*rules)[2].at(".id") == ids[1]);

  REQUIRE(client.remove("ipv6/firewall/mangle", ids[0]).ok());
  CHECK(client.remove("ipv6/firewall/mangle", ids[0]).ok());  // already gone: idempotent
  CHECK(client.last_http_status() == 404);
  auto gone = client.get("ipv6/firewall/mangle", ids[0]);
  REQUIRE_FALSE(gone.ok());
  CHECK(client.last_http_status() == 404);
  CHECK(has(gone.error().message, "404"));
  CHECK(client.list("ipv6/firewall/mangle")->size() == 2);

  auto state = nlohmann::json::parse(emu.control("GET", "/_emu/state"));
  CHECK(state["ipv6/firewall/mangle"].size() == 2);
}

TEST_CASE("client: router refusals are quoted with a hint, writes are not retried", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());

  auto bad_mark = client.add("ipv6/firewall/mangle", {{"chain", "prerouting"}, {"new-routing-mark", "nope"}});
  REQUIRE_FALSE(bad_mark.ok());
  CHECK(has(bad_mark.error().message, "input does not match any value of new-routing-mark"));
  CHECK(client.last_http_status() == 400);

  auto rule = client.add("ipv6/firewall/mangle", {{"chain", "prerouting"}});
  REQUIRE(rule.ok());
  auto place = client.set("ipv6/firewall/mangle", rule->at(".id"), {{"place-before", "*1"}});
  REQUIRE_FALSE(place.ok());
  CHECK(has(place.error().message, "unknown parameter place-before"));
  CHECK(has(place.error().message, "PATCH /rest/ipv6/firewall/mangle/"));

  auto dup1 = client.add("ipv6/firewall/address-list", {{"list", "home6"}, {"address", "2001:db8:12::1"}});
  REQUIRE(dup1.ok());
  CHECK(dup1->at("address") == "2001:db8:12::1/128");
  auto dup2 =
      client.add("ipv6/firewall/address-list", {{"list", "home6"}, {"address", "2001:db8:12::1/128"}});
  REQUIRE_FALSE(dup2.ok());
  CHECK(has(dup2.error().message, "already have such entry"));
}

TEST_CASE("client: certificate fingerprint pin accepts the right certificate", "[routeros][emulator][tls]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  ClientOptions o = emu.options();
  o.ca_file.clear();
  o.fingerprint_sha256 = with_colons_upper(emu.fingerprint);
  Client client(o, emu.credentials());
  auto r = client.singleton("system/resource");
  REQUIRE(r.ok());
  CHECK(r->count("version") == 1);
}

TEST_CASE("client: pin mismatch fails before credentials are sent and shows the seen fingerprint",
          "[routeros][emulator][tls]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  ClientOptions o = emu.options();
  o.ca_file.clear();
  std::string wrong = emu.fingerprint;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  o.fingerprint_sha256 = wrong;
  Client client(o, emu.credentials());
  auto r = client.list("ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, emu.fingerprint));
  CHECK(has(r.error().message, "pinned"));
  CHECK(client.requests_sent() == 1);  // a certificate problem is not retried
  CHECK(counters(emu)["total"] == 0);  // the emulator never saw a request
}

TEST_CASE("client: pin and CA file together must both hold", "[routeros][emulator][tls]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  ClientOptions o = emu.options();
  o.fingerprint_sha256 = emu.fingerprint;
  Client both(o, emu.credentials());
  CHECK(both.list("ipv6/route").ok());
}

TEST_CASE("client: CA file verifies -- no CA shows the fingerprint to pin -- insecure skips checks",
          "[routeros][emulator][tls]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client with_ca(emu.options(), emu.credentials());
  CHECK(with_ca.list("ipv6/route").ok());

  ClientOptions system_store = emu.options();
  system_store.ca_file.clear();
  Client unverified(system_store, emu.credentials());
  auto r = unverified.list("ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, emu.fingerprint));
  CHECK(has(r.error().message, "TLS"));
  CHECK(counters(emu)["total"] == 1);  // only the with_ca request arrived

  ClientOptions insecure = system_store;
  insecure.insecure = true;
  Client skip(insecure, emu.credentials());
  CHECK(skip.list("ipv6/route").ok());
}

TEST_CASE("client: 401 says to check the user and the rest-api policy, without retrying",
          "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), {emu.user, "wrong password"});
  auto r = client.list("ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "401"));
  CHECK(has(r.error().message, "rest-api"));
  CHECK_FALSE(has(r.error().message, "wrong password"));
  CHECK(client.requests_sent() == 1);
  CHECK(client.last_http_status() == 401);
}

TEST_CASE("client: GET is retried after 500 and Session closed, then succeeds", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  emu.fault(R"({"kind":"status500","count":2})");
  auto r = client.list("ipv6/route");
  REQUIRE(r.ok());
  CHECK(client.requests_sent() == 3);

  emu.fault(R"({"kind":"session_closed","count":1})");
  auto s = client.singleton("system/resource");
  REQUIRE(s.ok());
  CHECK(client.requests_sent() == 5);
  CHECK(counters(emu)["faults_applied"] == 3);
}

TEST_CASE("client: retries stop at max_retries and say how many attempts were made", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  ClientOptions o = emu.options();
  o.max_retries = 2;
  Client client(o, emu.credentials());
  emu.fault(R"({"kind":"status500","count":5})");
  auto r = client.list("ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "500"));
  CHECK(has(r.error().message, "3 attempts"));
  CHECK(client.requests_sent() == 3);
}

TEST_CASE("client: PUT, PATCH and move are sent once even on 500", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  emu.fault(R"({"kind":"status500","count":3,"methods":["PUT"]})");
  auto r = client.add("ipv6/firewall/mangle", {{"chain", "prerouting"}});
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "500"));
  CHECK(client.requests_sent() == 1);
  auto c = counters(emu);
  CHECK(count_of(c, "PUT") == 1);
  CHECK(c["writes"] == 0);

  emu.control("POST", "/_emu/faults/clear");
  auto rule = client.add("ipv6/firewall/mangle", {{"chain", "prerouting"}});
  REQUIRE(rule.ok());
  emu.fault(R"({"kind":"session_closed","count":3,"methods":["PATCH","POST"]})");
  CHECK_FALSE(client.set("ipv6/firewall/mangle", rule->at(".id"), {{"comment", "x"}}).ok());
  CHECK_FALSE(client.move("ipv6/firewall/mangle", {rule->at(".id")}, "").ok());
  c = counters(emu);
  CHECK(count_of(c, "PATCH") == 1);
  CHECK(count_of(c, "POST") == 1);
}

TEST_CASE("client: DELETE is retried after 500 and a dropped connection", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  auto rule = client.add("ipv6/firewall/mangle", {{"chain", "prerouting"}});
  REQUIRE(rule.ok());
  emu.fault(R"({"kind":"status500","count":1,"methods":["DELETE"]})");
  emu.fault(R"({"kind":"drop","count":1,"methods":["DELETE"]})");
  REQUIRE(client.remove("ipv6/firewall/mangle", rule->at(".id")).ok());
  CHECK(count_of(counters(emu), "DELETE") == 3);
  CHECK(client.list("ipv6/firewall/mangle")->empty());
}

TEST_CASE("client: a PUT whose reply is lost is an error and is not sent again", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  REQUIRE(client.list("ipv6/route").ok());  // leaves a keep-alive connection libcurl would reuse
  emu.fault(R"({"kind":"drop_after_apply","count":1,"methods":["PUT"]})");
  auto r = client.add("ipv6/firewall/mangle", {{"chain", "lost-reply"}});
  REQUIRE_FALSE(r.ok());
  auto rows = client.list("ipv6/firewall/mangle");
  REQUIRE(rows.ok());
  CHECK(std::count_if(rows->begin(), rows->end(),
                      [](const auto& o) { return o.at("chain") == "lost-reply"; }) == 1);
  CHECK(count_of(counters(emu), "PUT") == 1);
}

TEST_CASE("client: a dropped connection on GET is retried", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  emu.fault(R"({"kind":"drop","count":1})");
  auto r = client.list("routing/table");
  REQUIRE(r.ok());
  CHECK(r->size() == 1);
  CHECK(client.requests_sent() == 2);
}

TEST_CASE("client: a reply slower than the timeout is an error naming the timeout", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  ClientOptions o = emu.options();
  o.timeout = 300ms;
  o.max_retries = 0;
  Client client(o, emu.credentials());
  emu.fault(R"({"kind":"slow","count":1,"delay_ms":3000})");
  auto r = client.list("ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "no reply in time"));
  CHECK(has(r.error().message, "www-ssl"));
  CHECK(client.last_http_status() == 0);
}

TEST_CASE("client: abort() ends a slow request promptly and fails every later call", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  ClientOptions o = emu.options();
  o.timeout = 60s;
  o.max_retries = 0;
  Client client(o, emu.credentials());
  emu.fault(R"({"kind":"slow","count":1,"delay_ms":30000})");
  auto [r, took] = list_aborted_midway(client, "ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "aborted"));
  CHECK(took < 5s);  // libcurl calls the progress callback at least about once a second
  auto later = client.list("ipv6/route");
  REQUIRE_FALSE(later.ok());
  CHECK(has(later.error().message, "aborted"));
  CHECK(client.requests_sent() == 1);
}

TEST_CASE("client: abort() cuts a retry backoff short", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  ClientOptions o = emu.options();
  o.max_retries = 10;
  o.backoff_base = 20s;  // jittered in [0, 20 s]: ten short draws in a row are out of the question
  o.backoff_cap = 20s;
  Client client(o, emu.credentials());
  emu.fault(R"({"kind":"status500","count":20})");
  auto [r, took] = list_aborted_midway(client, "ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "aborted"));
  CHECK(took < 5s);
}

TEST_CASE("client: raw control characters in a reply are parsed -- truncated JSON is an error",
          "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  auto rule = client.add("ipv6/firewall/mangle", {{"chain", "prerouting"}, {"comment", "dhcp"}});
  REQUIRE(rule.ok());
  emu.fault(R"({"kind":"control_char","count":1})");
  auto got = client.get("ipv6/firewall/mangle", rule->at(".id"));
  REQUIRE(got.ok());
  CHECK(got->at("comment") == "host\x01name\x1f-dhcp");

  emu.fault(R"({"kind":"invalid_json","count":1})");
  auto bad = client.list("ipv6/firewall/mangle");
  REQUIRE_FALSE(bad.ok());
  CHECK(has(bad.error().message, "not JSON"));
}

TEST_CASE("client: singleton as object or one-element array", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  auto a = client.singleton("system/resource");
  REQUIRE(a.ok());
  emu.control("POST", "/_emu/quirks", R"({"singleton_as_array":true,"put_status":200,"delete_status":200})");
  auto b = client.singleton("system/resource");
  REQUIRE(b.ok());
  CHECK(a->at("version") == b->at("version"));
  auto t = client.add("routing/table", {{"name", "t200"}});  // 200 instead of 201 is fine too
  REQUIRE(t.ok());
  CHECK(client.remove("routing/table", t->at(".id")).ok());
}

TEST_CASE("client: connection refused tells the operator to check www-ssl", "[routeros][emulator]") {
  ClientOptions o;
  o.base_url = "https://127.0.0.1:" + std::to_string(closed_port());
  o.insecure = true;
  o.max_retries = 1;
  o.backoff_base = 1ms;
  Client client(o, {"u", "p"});
  auto r = client.list("ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "is www-ssl enabled and reachable"));
  CHECK(client.requests_sent() == 2);
}

TEST_CASE("client: unusable options are reported on every call", "[routeros]") {
  ClientOptions o;
  o.base_url = "https://admin:secret@192.0.2.1";
  Client with_userinfo(o, {"u", "p"});
  auto r = with_userinfo.list("ipv6/route");
  REQUIRE_FALSE(r.ok());
  CHECK(has(r.error().message, "credentials"));
  CHECK_FALSE(has(r.error().message, "secret"));
  CHECK(with_userinfo.requests_sent() == 0);

  ClientOptions ftp;
  ftp.base_url = "ftp://192.0.2.1";
  CHECK_FALSE(Client(ftp, {"u", "p"}).list("x").ok());

  ClientOptions bad_pin;
  bad_pin.base_url = "https://192.0.2.1";
  bad_pin.fingerprint_sha256 = "abcd";
  auto p = Client(bad_pin, {"u", "p"}).list("x");
  REQUIRE_FALSE(p.ok());
  CHECK(has(p.error().message, "64"));
}

TEST_CASE("client: plain http works", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu(/*plain=*/true);
  ClientOptions o = emu.options();
  o.ca_file.clear();
  Client client(o, emu.credentials());
  CHECK(client.list("routing/table").ok());
}

TEST_CASE("client: one Client shared by threads sends one request at a time", "[routeros][emulator]") {
  REQUIRE_EMULATOR_TOOLS();
  Emulator emu;
  Client client(emu.options(), emu.credentials());
  constexpr int kThreads = 3, kEach = 8;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto name = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto added = client.add("routing/table", {{"name", name}});
        auto listed = client.list("routing/table");
        if (added.ok() && listed.ok()) ++ok;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(ok == kThreads * kEach);
  CHECK(client.requests_sent() == 2u * kThreads * kEach);
  CHECK(client.list("routing/table")->size() == 1u + kThreads * kEach);
}
