#include "proxy/resolver.hpp"

#include <ares.h>
#include <arpa/nameser.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>

#include "common/log.hpp"

namespace sixgate::proxy {

// One c-ares socket in the loop's set, level-triggered for what c-ares asked for: c-ares reads and writes
// it itself and may leave data behind (one TCP read per call).
struct Resolver::Watch : ReadinessPoller::Listener {
  Watch(std::weak_ptr<Resolver> o, int socket) : owner(std::move(o)), fd(socket) {}
  void on_ready(std::uint32_t, std::uint32_t events) override {
    auto r = owner.lock();
    if (!r) return;
    const bool readable = events & (EPOLLIN | EPOLLHUP | EPOLLERR);
    const bool writable = events & (EPOLLOUT | EPOLLERR);
    ares_process_fd(r->channel_, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
    r->reschedule_timer();
  }
  std::weak_ptr<Resolver> owner;
  int fd;
  ReadinessPoller::Token token = 0;
};

struct Resolver::Pending {
  std::weak_ptr<Resolver> owner;
  std::string name;
  int qtype;
};

namespace {

std::once_flag g_ares_init;

std::string cache_key(int qtype, const std::string& name) {
  return (qtype == ns_t_aaaa ? "6:" : "4:") + name;
}

constexpr std::size_t kSoaNumbers = 20;  // SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM

// Bounds-checked reads over one DNS message; names are skipped with c-ares' own (compression-aware,
// loop-safe) expander.
class MessageReader {
 public:
  explicit MessageReader(std::span<const std::uint8_t> m) : m_(m) {}
  std::size_t at = NS_HFIXEDSZ;

  bool has(std::size_t n) const { return at <= m_.size() && m_.size() - at >= n; }
  std::uint16_t u16(std::size_t from) const {
    return static_cast<std::uint16_t>(m_[from] << 8 | m_[from + 1]);
  }
  std::uint32_t u32(std::size_t from) const {
    return static_cast<std::uint32_t>(u16(from)) << 16 | u16(from + 2);
  }
  bool skip_name() {
    if (!has(1)) return false;
    char* name = nullptr;
    long length = 0;
    if (ares_expand_name(m_.data() + at, m_.data(), static_cast<int>(m_.size()), &name, &length) !=
        ARES_SUCCESS)
      return false;
    ares_free_string(name);
    at += static_cast<std::size_t>(length);
    return has(0);
  }

 private:
  std::span<const std::uint8_t> m_;
};

}  // namespace

std::optional<std::uint32_t> negative_answer_ttl(std::span<const std::uint8_t> answer) {
  MessageReader r(answer);
  if (!r.has(0)) return std::nullopt;
  const std::size_t questions = r.u16(4), answers = r.u16(6), authorities = r.u16(8);
  for (std::size_t i = 0; i < questions; ++i) {
    if (!r.skip_name() || !r.has(NS_QFIXEDSZ)) return std::nullopt;
    r.at += NS_QFIXEDSZ;
  }
  for (std::size_t i = 0; i < answers + authorities; ++i) {
    if (!r.skip_name() || !r.has(NS_RRFIXEDSZ)) return std::nullopt;
    const std::uint16_t type = r.u16(r.at);
    const std::uint32_t ttl = r.u32(r.at + 4);
    const std::size_t data_length = r.u16(r.at + 8);
    r.at += NS_RRFIXEDSZ;
    if (!r.has(data_length)) return std::nullopt;
    const std::size_t data_end = r.at + data_length;
    if (i >= answers && type == ns_t_soa) {
      if (!r.skip_name() || !r.skip_name() || r.at + kSoaNumbers > data_end) return std::nullopt;
      const std::uint32_t minimum = r.u32(r.at + kSoaNumbers - 4);
      return std::min(ttl, minimum);
    }
    r.at = data_end;
  }
  return std::nullopt;
}

std::string_view to_string(Lookup::Outcome o) {
  switch (o) {
    case Lookup::Outcome::ok:
      return "ok";
    case Lookup::Outcome::nxdomain:
      return "nxdomain";
    case Lookup::Outcome::no_records:
      return "no_records";
    case Lookup::Outcome::failure:
      return "failure";
  }
  return "?";
}

Resolver::Resolver(EventLoop& loop, ResolverSettings settings)
    : loop_(loop), settings_(std::move(settings)), timer_(loop) {}

Result<std::shared_ptr<Resolver>> Resolver::create(EventLoop& loop, ResolverSettings settings) {
  int init_status = ARES_SUCCESS;
  std::call_once(g_ares_init, [&] { init_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_status != ARES_SUCCESS)
    return make_error(std::string("c-ares init: ") + ares_strerror(init_status));

  std::shared_ptr<Resolver> r(new Resolver(loop, std::move(settings)));
  ares_options opts{};
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
  opts.sock_state_cb = [](void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Resolver*>(data)->on_socket_state(fd, readable != 0, writable != 0);
  };
  opts.sock_state_cb_data = r.get();
  opts.timeout = static_cast<int>(r->settings_.timeout.count());
  opts.tries = r->settings_.tries;
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  int status = ares_init_options(&r->channel_, &opts, mask);
  if (status != ARES_SUCCESS) return make_error(std::string("c-ares: ") + ares_strerror(status));
  if (!r->settings_.servers.empty()) {
    std::string csv;
    for (const auto& s : r->settings_.servers) csv += (csv.empty() ? "" : ",") + s.to_ares();
    status = ares_set_servers_ports_csv(r->channel_, csv.c_str());
    if (status != ARES_SUCCESS) return make_error("resolver servers '" + csv + "': " + ares_strerror(status));
  }
  return r;
}

Resolver::~Resolver() {
  destroying_ = true;
  timer_.cancel();
  if (channel_) ares_destroy(channel_);  // answers every query with ARES_EDESTRUCTION (ignored below)
  for (auto& [fd, w] : watches_) loop_.poller().unwatch(w->token, fd);
}

void Resolver::on_socket_state(int fd, bool readable, bool writable) {
  auto& poller = loop_.poller();
  auto it = watches_.find(fd);
  if (!readable && !writable) {
    if (it != watches_.end()) {
      poller.unwatch(it->second->token, fd);  // c-ares closes the socket next
      watches_.erase(it);
    }
    return;
  }
  const std::uint32_t events =
      (readable ? std::uint32_t{EPOLLIN} : 0u) | (writable ? std::uint32_t{EPOLLOUT} : 0u);
  if (it != watches_.end()) {
    if (!poller.set_level_events(it->second->token, fd, events))
      log::event(spdlog::level::err, "resolver_socket_failed", {{"error", std::strerror(errno)}});
    return;
  }
  auto w = std::make_shared<Watch>(weak_from_this(), fd);
  auto token = poller.watch_level(fd, events, w, 0);
  if (!token) {
    // c-ares' own timeout ends the query: its callback reports the failure.
    log::event(spdlog::level::err, "resolver_socket_failed", {{"error", token.error().message}});
    return;
  }
  w->token = *token;
  watches_.emplace(fd, std::move(w));
}

void Resolver::reschedule_timer() {
  timeval max{1, 0}, tv{};
  timeval* next = ares_timeout(channel_, &max, &tv);
  if (watches_.empty() && in_flight_.empty()) return;
  std::weak_ptr<Resolver> self = weak_from_this();
  timer_.arm_after(std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec), [self] {
    auto r = self.lock();
    if (!r) return;
    ares_process_fd(r->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles timeouts and retries
    r->reschedule_timer();
  });
}

// The live entry for `key`, not copied (valid until the cache changes); an expired one is dropped.
const Resolver::CacheEntry* Resolver::cached(const std::string& key) {
  auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  if (it->second.expires <= settings_.clock()) {
    cache_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void Resolver::store(const std::string& key, CacheEntry e) {
  if (cache_.size() >= settings_.cache_entries && !cache_.contains(key)) make_room();
  cache_[key] = std::move(e);
}

// One pass over a full cache: expired entries go, and if none had, the one that expires soonest (it would
// be the next to go anyway). Linear, but only on a miss when the cache is full.
void Resolver::make_room() {
  const auto now = settings_.clock();
  auto soonest = cache_.end();
  bool freed = false;
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.expires <= now) {
      it = cache_.erase(it);
      freed = true;
      continue;
    }
    if (soonest == cache_.end() || it->second.expires < soonest->second.expires) soonest = it;
    ++it;
  }
  if (!freed && soonest != cache_.end()) cache_.erase(soonest);
}

std::chrono::seconds Resolver::negative_ttl(const unsigned char* abuf, int alen) const {
  if (!abuf || alen <= 0) return kNegativeTtl;
  auto soa = negative_answer_ttl({abuf, static_cast<std::size_t>(alen)});
  if (!soa) return kNegativeTtl;
  return std::clamp(std::chrono::seconds(*soa), kMinNegativeTtl, kMaxNegativeTtl);
}

void Resolver::resolve(const std::string& name, bool want_v4, Callback callback) {
  waiters_[name].push_back(Waiter{want_v4, std::move(callback)});
  bool queried = false;
  for (int qtype : {ns_t_aaaa, ns_t_a}) {
    if (qtype == ns_t_a && !want_v4) continue;
    auto key = cache_key(qtype, name);
    if (cached(key) || in_flight_.contains(key)) continue;
    query(name, qtype);
    queried = true;
  }
  if (!queried) return deliver(name);  // from the cache (or joining a query in flight): no timer to move
  reschedule_timer();
}

void Resolver::query(const std::string& name, int qtype) {
  in_flight_[cache_key(qtype, name)] = 1;
  auto* pending = new Pending{weak_from_this(), name, qtype};
  ares_query(
      channel_, name.c_str(), ns_c_in, qtype,
      [](void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        std::unique_ptr<Pending> p(static_cast<Pending*>(arg));
        if (status == ARES_EDESTRUCTION) return;
        auto r = p->owner.lock();
        if (!r || r->destroying_) return;
        r->on_answer(p->name, p->qtype, status, abuf, alen);
      },
      pending);
}

void Resolver::on_answer(const std::string& name, int qtype, int status, const unsigned char* abuf,
                         int alen) {
  auto key = cache_key(qtype, name);
  in_flight_.erase(key);
  auto now = settings_.clock();
  CacheEntry e{Lookup::Outcome::failure, {}, {}, now};
  if (status == ARES_SUCCESS) {
    constexpr int kMax = 32;
    int ttl = std::numeric_limits<int>::max();
    int n = kMax;
    if (qtype == ns_t_aaaa) {
      ares_addr6ttl out[kMax];
      status = ares_parse_aaaa_reply(abuf, alen, nullptr, out, &n);
      if (status == ARES_SUCCESS)
        for (int i = 0; i < n; ++i) {
          Ipv6Address::Bytes b;
          std::memcpy(b.data(), &out[i].ip6addr, 16);
          e.v6.emplace_back(b);
          ttl = std::min(ttl, out[i].ttl);
        }
    } else {
      ares_addrttl out[kMax];
      status = ares_parse_a_reply(abuf, alen, nullptr, out, &n);
      if (status == ARES_SUCCESS)
        for (int i = 0; i < n; ++i) {
          Ipv4Address::Bytes b;
          std::memcpy(b.data(), &out[i].ipaddr, 4);
          e.v4.emplace_back(b);
          ttl = std::min(ttl, out[i].ttl);
        }
    }
    if (status == ARES_SUCCESS && (e.v6.size() + e.v4.size()) > 0) {
      e.outcome = Lookup::Outcome::ok;
      auto capped = std::min<std::int64_t>(std::max(ttl, 1), settings_.max_ttl.count());
      e.expires = now + std::chrono::seconds(capped);
    } else if (status == ARES_SUCCESS || status == ARES_ENODATA) {
      status = ARES_ENODATA;
    }
  }
  if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
    e.outcome = status == ARES_ENOTFOUND ? Lookup::Outcome::nxdomain : Lookup::Outcome::no_records;
    e.expires = now + negative_ttl(abuf, alen);
  }
  if (e.outcome == Lookup::Outcome::failure) {
    failures_[key] = ares_strerror(status);
  } else {
    failures_.erase(key);
    store(key, std::move(e));
  }
  auto it = waiters_.find(name);
  if (it != waiters_.end()) {
    deliver(name);
  }
}

// Answers the waiters for `name` whose query types are all settled (cached, or failed just now).
void Resolver::deliver(const std::string& name) {
  auto it = waiters_.find(name);
  if (it == waiters_.end()) return;
  auto& list = it->second;
  std::vector<Waiter> ready;
  for (auto w = list.begin(); w != list.end();) {
    bool settled = true;
    for (int qtype : {ns_t_aaaa, ns_t_a}) {
      if (qtype == ns_t_a && !w->want_v4) continue;
      auto key = cache_key(qtype, name);
      if (in_flight_.contains(key)) settled = false;
    }
    if (settled) {
      ready.push_back(std::move(*w));
      w = list.erase(w);
    } else {
      ++w;
    }
  }
  if (list.empty()) waiters_.erase(it);
  for (auto& w : ready)
    loop_.post([cb = std::move(w.callback), result = *combine(name, w.want_v4, false)] { cb(result); });
  if (!waiters_.contains(name)) {
    failures_.erase(cache_key(ns_t_aaaa, name));
    failures_.erase(cache_key(ns_t_a, name));
  }
}

std::optional<Lookup> Resolver::cached_answer(const std::string& name, bool want_v4) {
  return combine(name, want_v4, true);
}

std::optional<Lookup> Resolver::combine(const std::string& name, bool want_v4, bool only_if_cached) {
  Lookup result;
  bool any_failure = false, any_nx = false, all_nx = true;
  std::string detail;
  for (int qtype : {ns_t_aaaa, ns_t_a}) {
    if (qtype == ns_t_a && !want_v4) continue;
    auto key = cache_key(qtype, name);
    auto e = cached(key);
    if (!e && only_if_cached) return std::nullopt;
    if (auto f = failures_.find(key); f != failures_.end()) {
      any_failure = true;
      all_nx = false;
      detail = f->second;
      continue;
    }
    if (!e) {
      any_failure = true;
      all_nx = false;
      detail = "answer expired before delivery";
      continue;
    }
    result.v6.insert(result.v6.end(), e->v6.begin(), e->v6.end());
    result.v4.insert(result.v4.end(), e->v4.begin(), e->v4.end());
    if (e->outcome == Lookup::Outcome::nxdomain)
      any_nx = true;
    else
      all_nx = false;
  }
  if (!result.v6.empty() || !result.v4.empty())
    result.outcome = Lookup::Outcome::ok;
  else if (any_failure)
    result.outcome = Lookup::Outcome::failure;
  else if (any_nx && all_nx)
    result.outcome = Lookup::Outcome::nxdomain;
  else
    result.outcome = Lookup::Outcome::no_records;
  result.detail = detail;
  return result;
}

}  // namespace sixgate::proxy
