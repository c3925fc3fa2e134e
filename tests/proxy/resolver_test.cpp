// The per-worker resolver against a tiny DNS server on 127.0.0.1 that counts the queries it gets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "proxy/resolver.hpp"

using namespace sixgate;
using namespace sixgate::proxy;

namespace {

void put16(std::vector<std::uint8_t>& out, unsigned v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, v >> 16);
  put16(out, v & 0xffff);
}
void put_name(std::vector<std::uint8_t>& out, const std::string& dotted) {
  std::size_t from = 0;
  while (from < dotted.size()) {
    auto dot = dotted.find('.', from);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(static_cast<std::uint8_t>(dot - from));
    out.insert(out.end(), dotted.begin() + static_cast<std::ptrdiff_t>(from),
               dotted.begin() + static_cast<std::ptrdiff_t>(dot));
    from = dot + 1;
  }
  out.push_back(0);
}
// The number in a name such as "ttl50.test" after `prefix`, or -1.
long number_after(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix, 0) != 0) return -1;
  return std::strtol(name.c_str() + prefix.size(), nullptr, 10);
}

// The answer to `query` (header + one question ending at `question_end`) for `name`/`qtype`:
//   app.test      AAAA 2001:db8:1::7 and ::8, TTL 300; an empty NOERROR answer for other types
//   ttlN.test     AAAA 2001:db8:1::9, TTL N
//   soaN.test     NXDOMAIN with an SOA in the authority section: TTL 3600, MINIMUM N
//   anything else NXDOMAIN without an authority section
std::vector<std::uint8_t> dns_response(const std::uint8_t* query, std::size_t question_end,
                                       const std::string& name, int qtype) {
  std::vector<std::uint8_t> r(query, query + question_end);
  r[2] = 0x81;  // QR, RD
  r[3] = 0x80;  // RA, rcode 0
  r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
  auto aaaa = [&](std::uint32_t ttl, std::uint8_t last) {
    const std::uint8_t rr[] = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 0, 0, 16, 0x20, 0x01,
                               0x0d, 0xb8, 0, 1,  0, 0, 0, 0, 0, 0, 0, 0,  0,    last};
    std::vector<std::uint8_t> bytes(std::begin(rr), std::end(rr));
    bytes[6] = static_cast<std::uint8_t>(ttl >> 24);
    bytes[7] = static_cast<std::uint8_t>(ttl >> 16);
    bytes[8] = static_cast<std::uint8_t>(ttl >> 8);
    bytes[9] = static_cast<std::uint8_t>(ttl);
    r.insert(r.end(), bytes.begin(), bytes.end());
    ++r[7];
  };
  if (name == "app.test") {
    if (qtype == 28)
      for (std::uint8_t last : {7, 8}) aaaa(300, last);
  } else if (long ttl = number_after(name, "ttl"); ttl >= 0) {
    if (qtype == 28) aaaa(static_cast<std::uint32_t>(ttl), 9);
  } else if (long minimum = number_after(name, "soa"); minimum >= 0) {
    r[3] = 0x83;  // NXDOMAIN
    r[9] = 1;     // NSCOUNT
    put_name(r, "test");
    put16(r, 6);  // SOA
    put16(r, 1);
    put32(r, 3600);
    std::vector<std::uint8_t> data;
    put_name(data, "ns.test");
    put_name(data, "admin.test");
    for (std::uint32_t v : {1u, 7200u, 900u, 1209600u}) put32(data, v);
    put32(data, static_cast<std::uint32_t>(minimum));
    put16(r, static_cast<unsigned>(data.size()));
    r.insert(r.end(), data.begin(), data.end());
  } else {
    r[3] = 0x83;  // NXDOMAIN
  }
  return r;
}

// A DNS server on 127.0.0.1 answering with dns_response() and counting the queries per name.
class FakeDns {
 public:
  FakeDns() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int queries() const { return queries_.load(); }
  int queries_for(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = per_name_.find(name);
    return it == per_name_.end() ? 0 : it->second;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      std::uint8_t q[512];
      sockaddr_storage from{};
      socklen_t flen = sizeof from;
      ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 17) continue;
      ++queries_;
      // Question: labels from offset 12, then qtype and qclass.
      std::size_t i = 12;
      std::string name;
      while (i < static_cast<std::size_t>(n) && q[i] != 0) {
        std::size_t l = q[i];
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(q + i + 1), l);
        i += l + 1;
      }
      {
        std::lock_guard lock(mutex_);
        ++per_name_[name];
      }
      auto r = dns_response(q, i + 5, name, (q[i + 1] << 8) | q[i + 2]);
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  mutable std::mutex mutex_;
  std::map<std::string, int> per_name_;
  std::thread thread_;
};

std::shared_ptr<Resolver> make_resolver(EventLoop& loop, std::uint16_t port, ResolverSettings s = {}) {
  s.servers.push_back(ResolverAddress{"127.0.0.1", port, false});
  auto r = Resolver::create(loop, s);
  REQUIRE(r.ok());
  return *r;
}

// Runs the io_context until `n` lookups have been answered (bounded, so a bug fails instead of hanging).
std::vector<Lookup> resolve_all(EventLoop& loop, Resolver& r, std::vector<std::string> names,
                                bool want_v4 = false) {
  std::vector<Lookup> out;
  for (const auto& n : names) r.resolve(n, want_v4, [&](const Lookup& l) { out.push_back(l); });
  for (int i = 0; i < 500 && out.size() < names.size(); ++i) loop.run_for(std::chrono::milliseconds(20));
  REQUIRE(out.size() == names.size());
  return out;
}

}  // namespace

TEST_CASE("resolver: AAAA answers in order, cached for their TTL") {
  FakeDns dns;
  auto loop = EventLoop::create().value();
  auto r = make_resolver(*loop, dns.port());
  auto first = resolve_all(*loop, *r, {"app.test"});
  REQUIRE(first[0].outcome == Lookup::Outcome::ok);
  REQUIRE(first[0].v6.size() == 2);
  CHECK(first[0].v6[0].to_string() == "2001:db8:1::7");
  CHECK(first[0].v6[1].to_string() == "2001:db8:1::8");
  CHECK(first[0].v4.empty());
  CHECK(dns.queries() == 1);
  auto again = resolve_all(*loop, *r, {"app.test"});
  CHECK(again[0].outcome == Lookup::Outcome::ok);
  CHECK(again[0].v6.size() == 2);
  CHECK(dns.queries() == 1);  // from the cache
}

TEST_CASE("resolver: NXDOMAIN is a negative answer and is cached too") {
  FakeDns dns;
  auto loop = EventLoop::create().value();
  auto r = make_resolver(*loop, dns.port());
  auto a = resolve_all(*loop, *r, {"nothing.test"});
  CHECK(a[0].outcome == Lookup::Outcome::nxdomain);
  CHECK(dns.queries() == 1);
  auto b = resolve_all(*loop, *r, {"nothing.test"});
  CHECK(b[0].outcome == Lookup::Outcome::nxdomain);
  CHECK(dns.queries() == 1);
}

TEST_CASE("resolver: concurrent lookups of one name share one query, and tcp mode asks A too") {
  FakeDns dns;
  auto loop = EventLoop::create().value();
  auto r = make_resolver(*loop, dns.port());
  auto many = resolve_all(*loop, *r, {"app.test", "app.test", "app.test"});
  for (const auto& l : many) CHECK(l.outcome == Lookup::Outcome::ok);
  CHECK(dns.queries() == 1);
  auto both = resolve_all(*loop, *r, {"app.test"}, true);  // AAAA cached, A asked: empty answer
  CHECK(both[0].outcome == Lookup::Outcome::ok);
  CHECK(both[0].v6.size() == 2);
  CHECK(both[0].v4.empty());
  CHECK(dns.queries() == 2);
}

TEST_CASE("resolver: a server that never answers is a failure, not a hang") {
  // A bound UDP socket nobody reads: queries time out after tries x timeout.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto loop = EventLoop::create().value();
  ResolverSettings s;
  s.servers.push_back(ResolverAddress{"127.0.0.1", ntohs(a.sin_port), false});
  s.timeout = std::chrono::milliseconds(100);
  s.tries = 1;
  auto r = Resolver::create(*loop, s);
  REQUIRE(r.ok());
  auto out = resolve_all(*loop, **r, {"app.test"});
  CHECK(out[0].outcome == Lookup::Outcome::failure);
  CHECK_FALSE(out[0].detail.empty());
  ::close(fd);
}

namespace {

// A cache clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  ResolverSettings settings() {
    ResolverSettings s;
    s.clock = [this] { return now; };
    return s;
  }
};

}  // namespace

TEST_CASE("resolver: a negative answer is cached for its SOA's MINIMUM, within 1 s..300 s, else 30 s") {
  FakeDns dns;
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto r = make_resolver(*loop, dns.port(), clock.settings());
  using std::chrono::milliseconds;
  struct Case {
    std::string name;
    milliseconds still_cached, expired;
  };
  const Case cases[] = {
      {"soa5.test", milliseconds(4900), milliseconds(5100)},          // MINIMUM 5 < SOA TTL 3600
      {"soa0.test", milliseconds(900), milliseconds(1100)},           // raised to 1 s
      {"soa86400.test", milliseconds(299900), milliseconds(300100)},  // capped at 300 s
      {"nothing.test", milliseconds(29900), milliseconds(30100)},     // no SOA: 30 s
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto asked = clock.now;
    CHECK(resolve_all(*loop, *r, {c.name})[0].outcome == Lookup::Outcome::nxdomain);
    CHECK(dns.queries_for(c.name) == 1);
    clock.now = asked + c.still_cached;
    CHECK(resolve_all(*loop, *r, {c.name})[0].outcome == Lookup::Outcome::nxdomain);
    CHECK(dns.queries_for(c.name) == 1);
    clock.now = asked + c.expired;
    CHECK(resolve_all(*loop, *r, {c.name})[0].outcome == Lookup::Outcome::nxdomain);
    CHECK(dns.queries_for(c.name) == 2);
  }
}

TEST_CASE("resolver: a positive answer expires after its TTL") {
  FakeDns dns;
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto r = make_resolver(*loop, dns.port(), clock.settings());
  const auto asked = clock.now;
  CHECK(resolve_all(*loop, *r, {"ttl20.test"})[0].v6.size() == 1);
  clock.now = asked + std::chrono::seconds(19);
  resolve_all(*loop, *r, {"ttl20.test"});
  CHECK(dns.queries_for("ttl20.test") == 1);
  clock.now = asked + std::chrono::seconds(21);
  resolve_all(*loop, *r, {"ttl20.test"});
  CHECK(dns.queries_for("ttl20.test") == 2);
}

TEST_CASE("resolver: a full cache drops the entry that expires soonest") {
  FakeDns dns;
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto settings = clock.settings();
  settings.cache_entries = 3;
  auto r = make_resolver(*loop, dns.port(), settings);
  for (const char* name : {"ttl100.test", "ttl50.test", "ttl300.test", "ttl200.test"})  // the 4th evicts one
    resolve_all(*loop, *r, {name});
  resolve_all(*loop, *r, {"ttl100.test", "ttl300.test", "ttl200.test"});
  CHECK(dns.queries_for("ttl100.test") == 1);
  CHECK(dns.queries_for("ttl300.test") == 1);
  CHECK(dns.queries_for("ttl200.test") == 1);
  resolve_all(*loop, *r, {"ttl50.test"});
  CHECK(dns.queries_for("ttl50.test") == 2);
}

TEST_CASE("resolver: the negative TTL is read only from a well-formed authority SOA") {
  std::uint8_t query[512] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  std::vector<std::uint8_t> question;
  put_name(question, "soa7.test");
  put16(question, 28);
  put16(question, 1);
  std::memcpy(query + 12, question.data(), question.size());
  auto full = dns_response(query, 12 + question.size(), "soa7.test", 28);
  CHECK(negative_answer_ttl(full) == 7u);
  for (std::size_t cut = 0; cut < full.size(); ++cut)
    CHECK_FALSE(negative_answer_ttl(std::span(full).first(cut)).has_value());
  auto no_soa = dns_response(query, 12 + question.size(), "nothing.test", 28);
  CHECK_FALSE(negative_answer_ttl(no_soa).has_value());
  auto looped = full;
  looped[12] = 0xc0;  // the question name points at itself
  looped[13] = 12;
  CHECK_FALSE(negative_answer_ttl(looped).has_value());
}

TEST_CASE("resolver: cached_answer gives a cached answer at once, and nothing for what is not cached") {
  FakeDns dns;
  auto loop = EventLoop::create().value();
  FakeClock clock;
  auto r = make_resolver(*loop, dns.port(), clock.settings());
  CHECK_FALSE(r->cached_answer("ttl20.test", false).has_value());
  CHECK(dns.queries() == 0);  // asking the cache sends no query
  const auto asked = clock.now;
  resolve_all(*loop, *r, {"ttl20.test", "nothing.test"});
  auto hit = r->cached_answer("ttl20.test", false);
  REQUIRE(hit.has_value());
  CHECK(hit->outcome == Lookup::Outcome::ok);
  REQUIRE(hit->v6.size() == 1);
  auto negative = r->cached_answer("nothing.test", false);
  REQUIRE(negative.has_value());
  CHECK(negative->outcome == Lookup::Outcome::nxdomain);
  CHECK_FALSE(r->cached_answer("ttl20.test", true).has_value());  // tcp mode needs the A answer too
  clock.now = asked + std::chrono::seconds(21);
  CHECK_FALSE(r->cached_answer("ttl20.test", false).has_value());  // expired
  CHECK(dns.queries_for("ttl20.test") == 1);
}
