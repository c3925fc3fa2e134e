#include "common/channel/server.hpp"

#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/v6_only.hpp>
#include <set>

#include "common/channel/receive_pause.hpp"
#include "common/log.hpp"

namespace sixgate::channel {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxPeersPerSite = 16;

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string endpoint_text(const udp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(ep.port());
  return a.to_string() + ":" + std::to_string(ep.port());
}

std::string sanitize_id(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == kMaxNameLength) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (ok) out += c;
  }
  return out.empty() ? "sixgate" : out;
}

// The set of prefixes without lifetimes: what counts as a change worth a log line.
std::set<Ipv6Prefix> prefix_set(const AgentReport& r) {
  std::set<Ipv6Prefix> out;
  for (const auto& p : r.prefixes) out.insert(p.prefix);
  return out;
}

std::string join(const std::set<Ipv6Prefix>& s) {
  std::string out;
  for (const auto& p : s) out += (out.empty() ? "" : ",") + p.to_string();
  return out.empty() ? "-" : out;
}

nlohmann::json remaining(const std::optional<std::int64_t>& reported, std::int64_t age_s) {
  if (!reported) return nullptr;
  return std::max<std::int64_t>(0, *reported - age_s);
}

}  // namespace

std::string default_sender_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "sixgate";
  return sanitize_id(host);
}

struct ChannelServer::Impl : std::enable_shared_from_this<ChannelServer::Impl> {
  struct Listener {
    Listener(asio::io_context& io, ChannelAddress a) : address(std::move(a)), rearm(io) {}
    ChannelAddress address;
    std::unique_ptr<udp::socket> socket;
    unsigned long bound_scope = 0;
    std::string error;
    std::array<std::uint8_t, kMaxDatagram + 1> buffer{};
    udp::endpoint from;
    asio::steady_timer rearm;  // delays the next receive after an error
  };
  struct PeerView {
    std::string sender, address;
    SteadyClock::time_point last_seen;
    std::int64_t last_seen_unix_ms = 0;
    AgentReport report;
    std::uint64_t reports = 0;
    bool stale_logged = false;
  };
  struct SiteView {
    ServerSite config;
    std::map<std::string, PeerView> peers;  // by sender id
  };

  Impl(asio::io_context& io_context, ServerOptions opts, ReportCallback cb,
       std::map<std::string, SiteKey> keys)
      : io(io_context),
        options(std::move(opts)),
        on_report(std::move(cb)),
        receiver(std::move(keys), MessageType::agent_report, wall_clock_micros()),
        tick(io_context) {
    for (const auto& a : options.listen) listeners.push_back(std::make_unique<Listener>(io_context, a));
    for (const auto& s : options.sites) sites.emplace(s.name, SiteView{s, {}});
  }

  void bind_all() {
    for (auto& l : listeners) {
      bool need = !l->socket;
      std::string zone;
      auto pct = l->address.host.find('%');
      if (pct != std::string::npos) zone = l->address.host.substr(pct + 1);
      if (l->socket && !zone.empty()) {
        // The interface was deleted and recreated: the old scope id no longer reaches it.
        unsigned long now_index = ::if_nametoindex(zone.c_str());
        if (now_index != l->bound_scope) {
          log::event(spdlog::level::warn, "channel_rebind",
                     {{"address", l->address.text}, {"reason", "interface index changed"}});
          boost::system::error_code ignored;
          l->socket->close(ignored);
          std::lock_guard lock(mutex);
          l->socket.reset();
          need = true;
        }
      }
      if (need) bind_one(*l);
    }
  }

  void bind_one(Listener& l) {
    auto endpoint = resolve_channel_address(l.address);
    std::string error;
    auto socket = std::make_unique<udp::socket>(io);
    boost::system::error_code ec;
    if (!endpoint) {
      error = endpoint.error().message;
    } else {
      socket->open(endpoint->protocol(), ec);
      if (!ec && endpoint->address().is_v6()) socket->set_option(asio::ip::v6_only(true), ec);
      if (!ec) socket->bind(*endpoint, ec);
      if (ec) error = "bind " + l.address.text + ": " + ec.message();
    }
    std::lock_guard lock(mutex);
    if (!error.empty()) {
      if (error != l.error)
        log::event(
            spdlog::level::warn, "channel_listen_failed",
            {{"address", l.address.text}, {"error", error}, {"retry_ms", options.rebind_interval.count()}});
      l.error = error;
      return;
    }
    l.error.clear();
    l.bound_scope = endpoint->address().is_v6() ? endpoint->address().to_v6().scope_id() : 0;
    l.socket = std::move(socket);
    log::event(spdlog::level::info, "channel_listen", {{"address", l.address.text}});
    receive(l);
  }

  void receive(Listener& l) {
    auto self = shared_from_this();
    udp::socket* sock = l.socket.get();
    sock->async_receive_from(asio::buffer(l.buffer), l.from,
                             [self, &l, sock](const boost::system::error_code& ec, std::size_t n) {
                               if (self->stopped || l.socket.get() != sock) return;
                               if (ec == asio::error::operation_aborted) return;
                               if (ec) {
                                 pause_receive(l.rearm, self->receive_error_log, spdlog::level::warn,
                                               {"address", l.address.text}, ec, [self, &l, sock] {
                                                 if (!self->stopped && l.socket.get() == sock)
                                                   self->receive(l);
                                               });
                                 return;
                               }
                               self->handle(l, n);
                               self->receive(l);
                             });
  }

  void handle(Listener& l, std::size_t n) {
    const std::string peer = endpoint_text(l.from);
    std::span<const std::uint8_t> datagram(l.buffer.data(), n);
    std::unique_lock lock(mutex);
    auto outcome = receiver.receive(datagram, wall_clock_micros(), peer);
    auto* accepted = std::get_if<Accepted>(&outcome);
    if (accepted == nullptr) return;
    const std::string site = accepted->message.site;
    auto report = agent_report_from_json(accepted->payload);
    if (!report) {
      receiver.reject_payload(site, report.error().message, peer);
      return;
    }
    auto& view = sites.at(site);
    auto& peers = view.peers;
    if (!peers.contains(accepted->message.sender) && peers.size() >= kMaxPeersPerSite) {
      auto oldest = std::min_element(peers.begin(), peers.end(), [](const auto& a, const auto& b) {
        return a.second.last_seen < b.second.last_seen;
      });
      peers.erase(oldest);
    }
    auto& pv = peers[accepted->message.sender];
    const bool first = pv.reports == 0;
    const bool changed =
        first || prefix_set(pv.report) != prefix_set(*report) || pv.report.sync != report->sync;
    const bool was_stale = pv.stale_logged;
    if (changed || was_stale)
      log::event(spdlog::level::info, "channel_report",
                 {{"site", site},
                  {"sender", accepted->message.sender},
                  {"peer", peer},
                  {"prefixes", join(prefix_set(*report))},
                  {"sync", to_string(report->sync)},
                  {"first", first},
                  {"recovered", was_stale}});
    pv.sender = accepted->message.sender;
    pv.address = peer;
    pv.last_seen = SteadyClock::now();
    pv.last_seen_unix_ms = unix_ms_now();
    pv.report = *report;
    pv.stale_logged = false;
    ++pv.reports;

    ProxyInfo info;
    info.proxy_version = options.version;
    info.routed_prefix = view.config.routed_prefix;
    info.nat46_prefix = options.nat46_prefix;
    info.gateway = view.config.gateway;
    info.ack_counter = accepted->message.counter;
    Message reply{MessageType::proxy_info, site, options.sender_id, send_counter.next(),
                  to_json(info).dump()};
    auto bytes = encode_message(reply, view.config.key);
    lock.unlock();
    if (on_report) on_report(site, *report);
    if (!bytes) {
      log::event(spdlog::level::err, "channel_reply_failed",
                 {{"site", site}, {"error", bytes.error().message}});
      return;
    }
    boost::system::error_code ec;
    l.socket->send_to(asio::buffer(*bytes), l.from, 0, ec);
    if (ec && reply_log.allow(SteadyClock::now()))
      log::event(spdlog::level::warn, "channel_reply_failed",
                 {{"site", site}, {"peer", peer}, {"error", ec.message()}});
  }

  void schedule_tick() {
    auto self = shared_from_this();
    tick.expires_after(options.rebind_interval);
    tick.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->bind_all();
      self->log_stale();
      self->schedule_tick();
    });
  }

  void log_stale() {
    std::lock_guard lock(mutex);
    const auto now = SteadyClock::now();
    for (auto& [name, site] : sites)
      for (auto& [sender, pv] : site.peers)
        if (!pv.stale_logged && now - pv.last_seen > 3 * std::chrono::milliseconds(pv.report.heartbeat_ms)) {
          pv.stale_logged = true;
          log::event(spdlog::level::warn, "channel_peer_stale",
                     {{"site", name}, {"sender", sender}, {"peer", pv.address}});
        }
  }

  nlohmann::json state() const {
    std::lock_guard lock(mutex);
    const auto now = SteadyClock::now();
    bool healthy = true;
    nlohmann::json listen = nlohmann::json::array();
    for (const auto& l : listeners) {
      listen.push_back({{"address", l->address.text}, {"bound", l->socket != nullptr}, {"error", l->error}});
      if (!l->socket) healthy = false;
    }
    nlohmann::json site_list = nlohmann::json::array();
    for (const auto& [name, site] : sites) {
      nlohmann::json peers = nlohmann::json::array();
      std::string health = "never_seen";
      SteadyClock::time_point freshest{};
      for (const auto& [sender, pv] : site.peers) {
        const auto age = now - pv.last_seen;
        const auto age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
        const auto stale_after = 3 * std::chrono::milliseconds(pv.report.heartbeat_ms);
        const bool stale = age > stale_after;
        const std::int64_t age_s = age_ms / 1000;
        nlohmann::json prefixes = nlohmann::json::array();
        for (const auto& p : pv.report.prefixes)
          prefixes.push_back({{"prefix", p.prefix.to_string()},
                              {"valid_s", remaining(p.valid_s, age_s)},
                              {"preferred_s", remaining(p.preferred_s, age_s)}});
        nlohmann::json peer = {
            {"sender", sender},
            {"address", pv.address},
            {"last_seen_unix_ms", pv.last_seen_unix_ms},
            {"last_seen_ago_ms", age_ms},
            {"stale_after_ms", stale_after.count()},
            {"stale", stale},
            {"reports", pv.reports},
            {"agent_version", pv.report.agent_version},
            {"prefixes", prefixes},
            {"sync", {{"state", to_string(pv.report.sync)}, {"reason", pv.report.sync_reason}}},
            {"last_change_unix_ms",
             pv.report.last_change_ms ? nlohmann::json(*pv.report.last_change_ms) : nullptr},
            {"agent_routed_prefix",
             pv.report.routed_prefix ? nlohmann::json(pv.report.routed_prefix->to_string()) : nullptr},
            {"routed_prefix_mismatch",
             pv.report.routed_prefix && *pv.report.routed_prefix != site.config.routed_prefix}};
        peers.push_back(std::move(peer));
        if (pv.last_seen >= freshest) {
          freshest = pv.last_seen;
          health = stale ? "stale" : pv.report.sync == SyncState::error ? "sync_error" : "ok";
        }
      }
      if (health != "ok") healthy = false;
      const auto& counters = receiver.site_counters();
      auto c = counters.find(name);
      site_list.push_back(
          {{"name", name},
           {"routed_prefix", site.config.routed_prefix.to_string()},
           {"gateway", site.config.gateway},
           {"health", health},
           {"peers", peers},
           {"counters", c != counters.end() ? c->second.to_json() : DropCounters{}.to_json()}});
    }
    return {
        {"healthy", healthy},
        {"sender_id", options.sender_id},
        {"version", options.version},
        {"nat46_prefix", options.nat46_prefix ? nlohmann::json(options.nat46_prefix->to_string()) : nullptr},
        {"listen", listen},
        {"counters", receiver.counters().to_json()},
        {"sites", site_list}};
  }

  void close_all() {
    stopped = true;
    tick.cancel();
    std::lock_guard lock(mutex);
    for (auto& l : listeners) {
      l->rearm.cancel();
      if (!l->socket) continue;
      boost::system::error_code ignored;
      l->socket->close(ignored);
    }
  }

  asio::io_context& io;
  ServerOptions options;
  ReportCallback on_report;
  mutable std::mutex mutex;  // guards receiver, sites and listener state against state() from other threads
  Receiver receiver;
  SendCounter send_counter;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::map<std::string, SiteView> sites;
  asio::steady_timer tick;
  TokenBucket reply_log{5, 0.2};
  TokenBucket receive_error_log{5, 0.2};
  // Atomic because the owner may stop (destructor) from a thread other than the io thread after io.run()
  // returned, or while handlers still run there; the handlers read it to stop re-arming.
  std::atomic<bool> stopped{false};
};

ChannelServer::ChannelServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ChannelServer::~ChannelServer() {
  impl_->close_all();
}

namespace {

Status check_listen(const std::vector<ChannelAddress>& listen) {
  if (listen.empty()) return make_error("channel.listen: no listen address");
  std::set<std::string> seen;
  for (const auto& a : listen) {
    if (is_wildcard(a))
      return make_error("channel.listen \"" + a.text +
                        "\": a wildcard address would expose the channel beyond the tunnel; use the tunnel "
                        "address, e.g. [fe80::1%wg0]:7443");
    if (!seen.insert(a.host + "|" + std::to_string(a.port)).second)
      return make_error("channel.listen \"" + a.text + "\": listed twice");
  }
  return ok_status();
}

// Each site needs its own key (else one site's agent could speak for the other) and its own routed prefix.
Status check_sites(const std::vector<ServerSite>& sites) {
  if (sites.empty()) return make_error("channel: no [[channel.site]]");
  for (std::size_t i = 0; i < sites.size(); ++i) {
    const auto& s = sites[i];
    if (!valid_name(s.name))
      return make_error("channel.site name \"" + s.name + "\": invalid ([A-Za-z0-9._-], 1..63)");
    for (std::size_t j = 0; j < i; ++j) {
      const auto& earlier = sites[j];
      const std::string pair = "channel.site \"" + s.name + "\" and \"" + earlier.name + "\"";
      if (s.name == earlier.name) return make_error("channel.site \"" + s.name + "\": configured twice");
      if (s.key.bytes() == earlier.key.bytes())
        return make_error(pair + ": key_file holds the same key; every site needs its own key");
      if (s.routed_prefix.overlaps(earlier.routed_prefix))
        return make_error(pair + ": routed_prefix " + s.routed_prefix.to_string() + " overlaps " +
                          earlier.routed_prefix.to_string());
    }
  }
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<ChannelServer>> ChannelServer::create(asio::io_context& io, ServerOptions options,
                                                             ReportCallback on_report) {
  if (auto listen = check_listen(options.listen); !listen) return listen.error();
  if (auto sites = check_sites(options.sites); !sites) return sites.error();
  if (options.sender_id.empty()) options.sender_id = default_sender_id();
  if (!valid_name(options.sender_id))
    return make_error("channel: invalid sender id \"" + options.sender_id + "\"");
  std::map<std::string, SiteKey> keys;
  for (const auto& s : options.sites) keys.emplace(s.name, s.key);
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(on_report), std::move(keys));
  return std::unique_ptr<ChannelServer>(new ChannelServer(std::move(impl)));
}

void ChannelServer::start() {
  impl_->stopped = false;
  impl_->bind_all();
  impl_->schedule_tick();
}

void ChannelServer::stop() {
  impl_->close_all();
}

nlohmann::json ChannelServer::state_json() const {
  return impl_->state();
}

}  // namespace sixgate::channel
