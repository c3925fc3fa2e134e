// Per-client connection counts: what counts as one client, the limit, and places given back exactly once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <functional>
#include <thread>
#include <vector>

#include "proxy/client_counts.hpp"

using namespace sixgate::proxy;

namespace {
sockaddr_storage peer(const char* address, std::uint16_t port = 40000) {
  sockaddr_storage ss{};
  if (std::string_view(address).find(':') == std::string_view::npos) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    REQUIRE(::inet_pton(AF_INET, address, &a->sin_addr) == 1);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    REQUIRE(::inet_pton(AF_INET6, address, &a->sin6_addr) == 1);
  }
  return ss;
}
ClientKey key(const char* address) {
  auto k = client_key(peer(address));
  REQUIRE(k);
  return *k;
}
}  // namespace

TEST_CASE("a client is its IPv4 address, however it arrived, or its IPv6 /64") {
  CHECK(key("192.0.2.2") == key("::ffff:192.0.2.2"));
  CHECK(client_key(peer("192.0.2.2", 1)) == client_key(peer("192.0.2.2", 2)));
  CHECK_FALSE(key("192.0.2.2") == key("192.0.2.3"));
  CHECK(key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  CHECK_FALSE(key("2001:db8:1:2::1") == key("2001:db8:1:3::1"));
  // An IPv6 /64 whose first 64 bits read like an IPv4 address is still another client.
  CHECK_FALSE(key("::c000:202:0:0:1") == key("192.0.2.2"));
  sockaddr_storage unix_peer{};
  unix_peer.ss_family = AF_UNIX;
  CHECK_FALSE(client_key(unix_peer).has_value());
}

TEST_CASE("a client gets at most `limit` places; each comes back when its slot goes") {
  ClientCounts counts;
  const auto a = key("192.0.2.2"), b = key("192.0.2.3");
  const auto from_a = peer("192.0.2.2"), from_b = peer("192.0.2.3");
  std::vector<ClientCounts::Slot> held;
  for (int i = 0; i < 3; ++i) {
    auto s = counts.try_take(from_a, 3);
    REQUIRE(s);
    held.push_back(std::move(*s));
  }
  CHECK(counts.count(a) == 3);
  CHECK_FALSE(counts.try_take(from_a, 3));
  CHECK(counts.count(a) == 3);                    // a refusal takes nothing
  CHECK(counts.try_take(from_b, 3).has_value());  // another client is not held back (its slot goes at once)
  CHECK(counts.count(b) == 0);

  ClientCounts::Slot moved = std::move(held.back());
  held.pop_back();  // the moved-from slot gives nothing back
  CHECK(counts.count(a) == 3);
  moved = ClientCounts::Slot();  // assigning over a slot gives its place back
  CHECK(counts.count(a) == 2);
  CHECK(counts.try_take(from_a, 3).has_value());
  held.clear();
  CHECK(counts.count(a) == 0);
  CHECK(counts.clients() == 0);  // no entry is left behind for a client with no connection
}

TEST_CASE("limit 0 counts nothing, and a peer without an address is never limited") {
  ClientCounts counts;
  auto s = counts.try_take(peer("192.0.2.2"), 0);
  REQUIRE(s);
  CHECK(counts.count(key("192.0.2.2")) == 0);
  sockaddr_storage unix_peer{};
  unix_peer.ss_family = AF_UNIX;
  CHECK(counts.try_take(unix_peer, 1).has_value());
  CHECK(counts.clients() == 0);
}

TEST_CASE("workers taking and giving back places at once leave exact counts") {
  ClientCounts counts;
  const auto a = key("192.0.2.2");
  const auto from_a = peer("192.0.2.2");
  constexpr int kRounds = 20000;
  // Catch's assertions are not thread-safe: each thread counts its refusals, checked after the join.
  auto churn = [&](int& refused) {
    for (int i = 0; i < kRounds; ++i)
      if (!counts.try_take(from_a, 1000)) ++refused;
  };
  std::vector<ClientCounts::Slot> kept;
  for (int i = 0; i < 10; ++i) kept.push_back(std::move(*counts.try_take(from_a, 1000)));
  int refused_there = 0, refused_here = 0;
  std::thread other(churn, std::ref(refused_there));
  churn(refused_here);
  other.join();
  CHECK(refused_there == 0);
  CHECK(refused_here == 0);
  CHECK(counts.count(a) == 10);
  kept.clear();
  CHECK(counts.clients() == 0);
}
