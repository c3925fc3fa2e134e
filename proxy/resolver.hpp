#pragma once
// Non-blocking DNS for one worker: c-ares driven by that worker's event loop (its sockets are watched in the
// loop's epoll set, its timeouts with a LoopTimer), so a lookup never blocks other connections. Answers are
// cached per worker honouring their TTLs (at least 1 s, at most max_ttl); negative answers (NXDOMAIN, no
// records of the type) for the TTL their authority section's SOA gives (RFC 2308 §5, within 1 s..5 min), or
// kNegativeTtl without one; server failures are not cached. A full cache drops the entry that expires
// soonest. Concurrent lookups of the same name share one query.
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "proxy/config.hpp"
#include "proxy/event_loop.hpp"

struct ares_channeldata;

namespace sixgate::proxy {

struct Lookup {
  enum class Outcome { ok, nxdomain, no_records, failure };
  Outcome outcome = Outcome::failure;
  std::vector<Ipv6Address> v6;  // in answer order
  std::vector<Ipv4Address> v4;
  std::string detail;  // c-ares' message when outcome == failure
};
std::string_view to_string(Lookup::Outcome o);

struct ResolverSettings {
  std::vector<ResolverAddress> servers;     // empty: /etc/resolv.conf
  std::chrono::milliseconds timeout{1500};  // per try
  int tries = 2;
  std::size_t cache_entries = 4096;
  std::chrono::seconds max_ttl{3600};
  // The cache's clock (tests move it by hand). c-ares' own retry timing uses the real clock.
  std::function<std::chrono::steady_clock::time_point()> clock = [] {
    return std::chrono::steady_clock::now();
  };
};

// RFC 2308 §5: how long a negative answer may be cached, from the SOA record in the authority section of the
// DNS message `answer`: the smaller of that record's TTL and its MINIMUM field. nullopt when the message has
// no SOA there or is malformed.
std::optional<std::uint32_t> negative_answer_ttl(std::span<const std::uint8_t> answer);

class Resolver : public std::enable_shared_from_this<Resolver> {
 public:
  static constexpr std::chrono::seconds kNegativeTtl{30};  // without an authority SOA
  static constexpr std::chrono::seconds kMinNegativeTtl{1}, kMaxNegativeTtl{300};
  using Callback = std::function<void(const Lookup&)>;

  static Result<std::shared_ptr<Resolver>> create(EventLoop& loop, ResolverSettings settings);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // AAAA always; A too when want_v4. The callback runs later on the loop (never inside this call).
  void resolve(const std::string& name, bool want_v4, Callback callback);
  // The same answer at once when every record type it needs is cached (positive or negative); nullopt
  // otherwise. Saves a cache hit the trip through the loop's queue.
  std::optional<Lookup> cached_answer(const std::string& name, bool want_v4);

  const ResolverSettings& settings() const { return settings_; }

 private:
  struct Watch;
  struct CacheEntry {
    Lookup::Outcome outcome;
    std::vector<Ipv6Address> v6;
    std::vector<Ipv4Address> v4;
    std::chrono::steady_clock::time_point expires;
  };
  struct Pending;  // one query type of one name in flight
  friend struct ResolverAccess;

  Resolver(EventLoop& loop, ResolverSettings settings);
  void on_socket_state(int fd, bool readable, bool writable);
  void reschedule_timer();
  void query(const std::string& name, int qtype);
  void on_answer(const std::string& name, int qtype, int status, const unsigned char* abuf, int alen);
  const CacheEntry* cached(const std::string& key);
  void store(const std::string& key, CacheEntry e);
  void make_room();
  std::chrono::seconds negative_ttl(const unsigned char* abuf, int alen) const;
  void deliver(const std::string& name);
  // The answer for a waiter once every type it needs is cached or failed; with only_if_cached, nullopt unless
  // every type is cached.
  std::optional<Lookup> combine(const std::string& name, bool want_v4, bool only_if_cached);

  EventLoop& loop_;
  ResolverSettings settings_;
  ares_channeldata* channel_ = nullptr;
  LoopTimer timer_;
  std::map<int, std::shared_ptr<Watch>> watches_;
  std::unordered_map<std::string, CacheEntry> cache_;  // key: qtype + ':' + name
  // Waiting callers per name; a caller is answered once every query type it needs is cached or failed.
  struct Waiter {
    bool want_v4;
    Callback callback;
  };
  std::unordered_map<std::string, std::vector<Waiter>> waiters_;
  std::unordered_map<std::string, int> in_flight_;         // cache key -> 1 while a query is out
  std::unordered_map<std::string, std::string> failures_;  // cache key -> failure text, until delivered
  bool destroying_ = false;
};

}  // namespace sixgate::proxy
