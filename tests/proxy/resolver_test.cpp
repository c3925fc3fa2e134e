// The per-worker resolver against a tiny DNS server on 127.0.0.1 that counts the queries it gets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <thread>
#include <vector>

#include "proxy/resolver.hpp"

using namespace sixgate;
using namespace sixgate::proxy;

namespace {

// Answers AAAA app.test with 2001:db8:1::7 and 2001:db8:1::8 (TTL 300); NXDOMAIN for every other name; an
// empty NOERROR answer for other query types of app.test.
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
      std::size_t qend = i + 5;
      int qtype = (q[i + 1] << 8) | q[i + 2];
      std::vector<std::uint8_t> r(q, q + qend);
      r[2] = 0x81;  // QR, RD
      r[3] = 0x80;  // RA, rcode 0
      r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
      if (name != "app.test") {
        r[3] = 0x83;  // NXDOMAIN
      } else if (qtype == 28) {
        r[7] = 2;
        for (std::uint8_t last : {7, 8}) {
          const std::uint8_t rr[] = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0x01, 0x2c, 0, 16, 0x20, 0x01,
                                     0x0d, 0xb8, 0, 1,  0, 0, 0, 0, 0,    0,    0, 0,  0,    last};
          r.insert(r.end(), std::begin(rr), std::end(rr));
        }
      }
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

std::shared_ptr<Resolver> make_resolver(boost::asio::io_context& io, std::uint16_t port) {
  ResolverSettings s;
  s.servers.push_back(ResolverAddress{"127.0.0.1", port, false});
  auto r = Resolver::create(io, s);
  REQUIRE(r.ok());
  return *r;
}

// Runs the io_context until `n` lookups have been answered (bounded, so a bug fails instead of hanging).
std::vector<Lookup> resolve_all(boost::asio::io_context& io, Resolver& r, std::vector<std::string> names,
                                bool want_v4 = false) {
  std::vector<Lookup> out;
  for (const auto& n : names) r.resolve(n, want_v4, [&](const Lookup& l) { out.push_back(l); });
  io.restart();
  for (int i = 0; i < 500 && out.size() < names.size(); ++i) io.run_for(std::chrono::milliseconds(20));
  REQUIRE(out.size() == names.size());
  return out;
}

}  // namespace

TEST_CASE("resolver: AAAA answers in order, cached for their TTL") {
  FakeDns dns;
  boost::asio::io_context io;
  auto r = make_resolver(io, dns.port());
  auto first = resolve_all(io, *r, {"app.test"});
  REQUIRE(first[0].outcome == Lookup::Outcome::ok);
  REQUIRE(first[0].v6.size() == 2);
  CHECK(first[0].v6[0].to_string() == "2001:db8:1::7");
  CHECK(first[0].v6[1].to_string() == "2001:db8:1::8");
  CHECK(first[0].v4.empty());
  CHECK(dns.queries() == 1);
  auto again = resolve_all(io, *r, {"app.test"});
  CHECK(again[0].outcome == Lookup::Outcome::ok);
  CHECK(again[0].v6.size() == 2);
  CHECK(dns.queries() == 1);  // from the cache
}

TEST_CASE("resolver: NXDOMAIN is a negative answer and is cached too") {
  FakeDns dns;
  boost::asio::io_context io;
  auto r = make_resolver(io, dns.port());
  auto a = resolve_all(io, *r, {"nothing.test"});
  CHECK(a[0].outcome == Lookup::Outcome::nxdomain);
  CHECK(dns.queries() == 1);
  auto b = resolve_all(io, *r, {"nothing.test"});
  CHECK(b[0].outcome == Lookup::Outcome::nxdomain);
  CHECK(dns.queries() == 1);
}

TEST_CASE("resolver: concurrent lookups of one name share one query, and tcp mode asks A too") {
  FakeDns dns;
  boost::asio::io_context io;
  auto r = make_resolver(io, dns.port());
  auto many = resolve_all(io, *r, {"app.test", "app.test", "app.test"});
  for (const auto& l : many) CHECK(l.outcome == Lookup::Outcome::ok);
  CHECK(dns.queries() == 1);
  auto both = resolve_all(io, *r, {"app.test"}, true);  // AAAA cached, A asked: empty answer
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
  boost::asio::io_context io;
  ResolverSettings s;
  s.servers.push_back(ResolverAddress{"127.0.0.1", ntohs(a.sin_port), false});
  s.timeout = std::chrono::milliseconds(100);
  s.tries = 1;
  auto r = Resolver::create(io, s);
  REQUIRE(r.ok());
  auto out = resolve_all(io, **r, {"app.test"});
  CHECK(out[0].outcome == Lookup::Outcome::failure);
  CHECK_FALSE(out[0].detail.empty());
  ::close(fd);
}
