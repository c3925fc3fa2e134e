#include "common/channel/client.hpp"

#include <array>
#include <atomic>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>

#include "common/channel/message.hpp"
#include "common/channel/receive_pause.hpp"
#include "common/channel/receiver.hpp"
#include "common/channel/replay.hpp"
#include "common/channel/server.hpp"
#include "common/log.hpp"

namespace sixgate::channel {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr auto kChangeRetry = std::chrono::seconds(1);
constexpr int kChangeRetries = 3;

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string optional_text(const std::optional<Ipv6Prefix>& p) {
  return p ? p->to_string() : "none";
}

// What makes a report "changed": prefixes (not their lifetimes, which count down), sync, last change, and the
// routed prefix (which changes when the agent adopts a proxy's).
std::string fingerprint(const AgentReport& r) {
  std::string out = optional_text(r.routed_prefix) + "|";
  for (const auto& p : r.prefixes) out += p.prefix.to_string() + ",";
  out += "|" + std::string(to_string(r.sync)) + "|" + r.sync_reason + "|";
  out += r.last_change_ms ? std::to_string(*r.last_change_ms) : "-";
  return out;
}

}  // namespace

std::string fit_report_payload(AgentReport report, std::size_t max_payload) {
  bool truncated = false;
  // The receiver refuses more than kMaxPrefixes prefixes and text over kMaxTextField bytes; router error
  // texts are not guaranteed to be valid UTF-8, which JSON needs.
  if (report.prefixes.size() > kMaxPrefixes) {
    report.prefixes.resize(kMaxPrefixes);
    truncated = true;
  }
  // At most `max` bytes of valid UTF-8: invalid bytes, and a character cut in half at the end, are dropped.
  auto utf8_prefix = [](const std::string& text, std::size_t max) {
    nlohmann::json cut = text.substr(0, max);
    return nlohmann::json::parse(cut.dump(-1, ' ', false, nlohmann::json::error_handler_t::ignore))
        .get<std::string>();
  };
  report.sync_reason = utf8_prefix(report.sync_reason, 200);
  report.agent_version = utf8_prefix(report.agent_version, 64);
  for (;;) {
    auto j = to_json(report);
    if (truncated) j["truncated"] = true;
    auto text = j.dump();
    if (text.size() <= max_payload || (report.prefixes.empty() && report.sync_reason.size() <= 80))
      return text;
    truncated = true;
    if (report.sync_reason.size() > 80)
      report.sync_reason = utf8_prefix(report.sync_reason, 77) + "...";
    else
      report.prefixes.pop_back();
  }
}

struct ChannelClient::Impl : std::enable_shared_from_this<ChannelClient::Impl> {
  struct Peer {
    ClientPeer config;
    std::unique_ptr<udp::socket> socket;
    udp::endpoint endpoint;  // as resolved for the last send
    std::array<std::uint8_t, kMaxDatagram + 1> buffer{};
    udp::endpoint from;
    std::unique_ptr<Receiver> receiver;
    std::optional<ProxyInfo> info;
    SteadyClock::time_point last_seen{};
    std::int64_t last_seen_unix_ms = 0;
    std::uint64_t last_sent_counter = 0;
    std::uint64_t change_counter = 0;  // counter of the last changed report still waiting for its ack
    SteadyClock::time_point change_sent_at{};
    int change_retries = 0;
    std::string send_error;
    std::vector<std::string> mismatches;
    bool stale_logged = false;
    std::uint64_t foreign_source = 0;           // authentic-looking datagrams from another address, ignored
    std::unique_ptr<asio::steady_timer> rearm;  // delays the next receive after an error
  };

  Impl(asio::io_context& io_context, ClientOptions opts, LocalState ls, ProxyInfoCallback cb)
      : io(io_context),
        options(std::move(opts)),
        local_state(std::move(ls)),
        on_info(std::move(cb)),
        heartbeat_timer(io_context),
        poll_timer(io_context),
        started_at(SteadyClock::now()) {
    const WallMicros floor = wall_clock_micros();
    for (const auto& p : options.peers) {
      auto peer = std::make_unique<Peer>();
      peer->config = p;
      peer->rearm = std::make_unique<asio::steady_timer>(io_context);
      peer->receiver = std::make_unique<Receiver>(std::map<std::string, SiteKey>{{options.site, p.key}},
                                                  MessageType::proxy_info, floor);
      peers.push_back(std::move(peer));
    }
  }

  AgentReport current_report() {
    AgentReport r = local_state ? local_state() : AgentReport{};
    r.agent_version = options.version;
    r.heartbeat_ms = options.heartbeat.count();
    return r;
  }

  void send_all(bool is_change) {
    AgentReport report = current_report();
    last_fingerprint = fingerprint(report);
    const std::size_t max_payload =
        kMaxDatagram - kHeaderSize - kMacSize - options.site.size() - options.sender_id.size();
    const std::string payload = fit_report_payload(std::move(report), max_payload);
    for (auto& p : peers) send(*p, payload, is_change);
  }

  void send(Peer& p, const std::string& payload, bool is_change) {
    std::unique_lock lock(mutex);
    auto endpoint = resolve_channel_address(p.config.address);
    if (!endpoint) {
      p.send_error = endpoint.error().message;
      return;
    }
    boost::system::error_code ec;
    if (!p.socket || p.endpoint.protocol() != endpoint->protocol()) {
      auto socket = std::make_unique<udp::socket>(io);
      socket->open(endpoint->protocol(), ec);
      if (ec) {
        p.send_error = "socket: " + ec.message();
        return;
      }
      if (p.socket) p.socket->close(ec);
      p.socket = std::move(socket);
      receive(p);
    }
    p.endpoint = *endpoint;
    Message m{MessageType::agent_report, options.site, options.sender_id, counter.next(), payload};
    auto bytes = encode_message(m, p.config.key);
    if (!bytes) {
      p.send_error = bytes.error().message;
      return;
    }
    p.socket->send_to(asio::buffer(*bytes), p.endpoint, 0, ec);
    p.send_error = ec ? ec.message() : "";
    p.last_sent_counter = m.counter;
    if (is_change) {
      p.change_counter = m.counter;
      p.change_sent_at = SteadyClock::now();
    }
  }

  void receive(Peer& p) {
    auto self = shared_from_this();
    udp::socket* sock = p.socket.get();
    sock->async_receive_from(asio::buffer(p.buffer), p.from,
                             [self, &p, sock](const boost::system::error_code& ec, std::size_t n) {
                               if (self->stopped || p.socket.get() != sock) return;
                               if (ec == asio::error::operation_aborted) return;
                               // ICMP errors (port unreachable while the proxy is down) surface here.
                               if (ec) {
                                 pause_receive(*p.rearm, self->receive_error_log, spdlog::level::info,
                                               {"peer", p.config.name}, ec, [self, &p, sock] {
                                                 if (!self->stopped && p.socket.get() == sock)
                                                   self->receive(p);
                                               });
                                 return;
                               }
                               self->handle(p, n);
                               self->receive(p);
                             });
  }

  void handle(Peer& p, std::size_t n) {
    std::unique_lock lock(mutex);
    if (p.from.address() != p.endpoint.address() || p.from.port() != p.endpoint.port()) {
      ++p.foreign_source;
      return;
    }
    const std::string from = p.from.address().to_string();
    auto outcome =
        p.receiver->receive(std::span<const std::uint8_t>(p.buffer.data(), n), wall_clock_micros(), from);
    auto* accepted = std::get_if<Accepted>(&outcome);
    if (accepted == nullptr) return;
    auto info = proxy_info_from_json(accepted->payload);
    if (!info) {
      p.receiver->reject_payload(options.site, info.error().message, from);
      return;
    }
    const bool first = !p.info.has_value();
    const bool recovered = p.stale_logged;
    p.last_seen = SteadyClock::now();
    p.last_seen_unix_ms = unix_ms_now();
    p.stale_logged = false;
    if (info->ack_counter >= p.change_counter) p.change_counter = 0;

    if (first || recovered || !p.info || p.info->routed_prefix != info->routed_prefix ||
        p.info->nat46_prefix != info->nat46_prefix || p.info->gateway != info->gateway)
      log::event(spdlog::level::info, "channel_proxy_info",
                 {{"peer", p.config.name},
                  {"routed_prefix", info->routed_prefix.to_string()},
                  {"nat46_prefix", optional_text(info->nat46_prefix)},
                  {"gateway", log::bounded(info->gateway, 64)},
                  {"proxy_version", log::bounded(info->proxy_version, 64)},
                  {"recovered", recovered}});
    p.info = *info;
    lock.unlock();
    if (on_info) on_info(p.config.name, *info);
    update_mismatches(p, info->routed_prefix);
  }

  // Against the routed prefix the agent uses now, i.e. after on_info may have adopted the proxy's.
  void update_mismatches(Peer& p, const Ipv6Prefix& proxy_routed) {
    const std::optional<Ipv6Prefix> own = current_report().routed_prefix;
    std::vector<std::string> mismatches;
    if (own && *own != proxy_routed)
      mismatches.push_back("routed prefix: proxy " + proxy_routed.to_string() + ", agent " +
                           own->to_string());
    std::lock_guard lock(mutex);
    if (mismatches != p.mismatches)
      for (const auto& m : mismatches)
        log::event(spdlog::level::warn, "channel_prefix_mismatch", {{"peer", p.config.name}, {"detail", m}});
    p.mismatches = std::move(mismatches);
  }

  void schedule_heartbeat() {
    auto self = shared_from_this();
    heartbeat_timer.expires_after(options.heartbeat);
    heartbeat_timer.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->send_all(false);
      self->schedule_heartbeat();
    });
  }

  void schedule_poll() {
    auto self = shared_from_this();
    poll_timer.expires_after(options.poll_interval);
    poll_timer.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->poll();
      self->schedule_poll();
    });
  }

  void poll() {
    AgentReport report = current_report();
    if (fingerprint(report) != last_fingerprint) {
      change_now();
      return;
    }
    retry_unacked_changes();
    log_stale();
  }

  void change_now() {
    for (auto& p : peers) p->change_retries = 0;
    send_all(true);
    schedule_heartbeat();  // the next heartbeat is one interval after this push
  }

  void retry_unacked_changes() {
    const auto now = SteadyClock::now();
    bool due = false;
    for (auto& p : peers)
      if (p->change_counter != 0 && now - p->change_sent_at >= kChangeRetry &&
          p->change_retries < kChangeRetries)
        due = true;
    if (!due) return;
    AgentReport report = current_report();
    const std::size_t max_payload =
        kMaxDatagram - kHeaderSize - kMacSize - options.site.size() - options.sender_id.size();
    const std::string payload = fit_report_payload(std::move(report), max_payload);
    for (auto& p : peers) {
      if (p->change_counter == 0 || now - p->change_sent_at < kChangeRetry ||
          p->change_retries >= kChangeRetries)
        continue;
      ++p->change_retries;
      send(*p, payload, true);
    }
  }

  void log_stale() {
    std::lock_guard lock(mutex);
    const auto now = SteadyClock::now();
    for (auto& p : peers)
      if (!p->stale_logged && p->info && now - p->last_seen > 3 * options.heartbeat) {
        p->stale_logged = true;
        log::event(spdlog::level::warn, "channel_peer_stale",
                   {{"peer", p->config.name}, {"address", p->config.address.text}});
      }
  }

  nlohmann::json state() const {
    std::lock_guard lock(mutex);
    const auto now = SteadyClock::now();
    const auto stale_after = 3 * options.heartbeat;
    bool healthy = true;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : peers) {
      std::string state;
      nlohmann::json proxy = nullptr;
      std::int64_t ago_ms = -1;
      if (p->info) {
        ago_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - p->last_seen).count();
        state = now - p->last_seen > stale_after ? "stale" : "ok";
        proxy = to_json(*p->info);
      } else {
        state = now - started_at > stale_after ? "never_seen" : "waiting";
      }
      if (state == "stale" || state == "never_seen") healthy = false;
      list.push_back({{"name", p->config.name},
                      {"address", p->config.address.text},
                      {"state", state},
                      {"last_seen_unix_ms", p->info ? nlohmann::json(p->last_seen_unix_ms) : nullptr},
                      {"last_seen_ago_ms", p->info ? nlohmann::json(ago_ms) : nullptr},
                      {"stale_after_ms", stale_after.count()},
                      {"proxy", proxy},
                      {"mismatches", p->mismatches},
                      {"acked", p->change_counter == 0},
                      {"send_error", p->send_error},
                      {"foreign_source", p->foreign_source},
                      {"counters", p->receiver->counters().to_json()}});
    }
    return {{"healthy", healthy},
            {"site", options.site},
            {"sender_id", options.sender_id},
            {"heartbeat_ms", options.heartbeat.count()},
            {"peers", list}};
  }

  void close_all() {
    stopped = true;
    heartbeat_timer.cancel();
    poll_timer.cancel();
    std::lock_guard lock(mutex);
    for (auto& p : peers) {
      p->rearm->cancel();
      if (!p->socket) continue;
      boost::system::error_code ignored;
      p->socket->close(ignored);
    }
  }

  asio::io_context& io;
  ClientOptions options;
  LocalState local_state;
  ProxyInfoCallback on_info;
  asio::steady_timer heartbeat_timer, poll_timer;
  SteadyClock::time_point started_at;
  mutable std::mutex mutex;  // guards peers' state against state() from other threads
  std::vector<std::unique_ptr<Peer>> peers;
  SendCounter counter;
  std::string last_fingerprint;
  TokenBucket receive_error_log{5, 0.2};
  // Atomic because the owner may stop (destructor) from a thread other than the io thread after io.run()
  // returned, or while handlers still run there; the handlers read it to stop re-arming.
  std::atomic<bool> stopped{false};
};

ChannelClient::ChannelClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ChannelClient::~ChannelClient() {
  impl_->close_all();
}

Result<std::unique_ptr<ChannelClient>> ChannelClient::create(asio::io_context& io, ClientOptions options,
                                                             LocalState local_state,
                                                             ProxyInfoCallback on_info) {
  if (!valid_name(options.site))
    return make_error("channel: invalid site name \"" + options.site + "\" ([A-Za-z0-9._-], 1..63)");
  if (options.sender_id.empty()) options.sender_id = default_sender_id();
  if (!valid_name(options.sender_id))
    return make_error("channel: invalid sender id \"" + options.sender_id + "\"");
  if (options.heartbeat < std::chrono::milliseconds(100) || options.heartbeat > std::chrono::hours(1))
    return make_error("channel: heartbeat must be between 100 ms and 1 h");
  if (options.poll_interval <= std::chrono::milliseconds(0))
    return make_error("channel: poll interval must be positive");
  auto impl = std::make_shared<Impl>(io, std::move(options), std::move(local_state), std::move(on_info));
  return std::unique_ptr<ChannelClient>(new ChannelClient(std::move(impl)));
}

void ChannelClient::start() {
  impl_->stopped = false;
  impl_->started_at = SteadyClock::now();
  impl_->send_all(true);
  impl_->schedule_heartbeat();
  impl_->schedule_poll();
}

void ChannelClient::stop() {
  impl_->close_all();
}

void ChannelClient::notify_local_change() {
  auto impl = impl_;
  asio::post(impl->io, [impl] {
    if (!impl->stopped) impl->change_now();
  });
}

nlohmann::json ChannelClient::state_json() const {
  return impl_->state();
}

std::optional<ProxyInfo> ChannelClient::proxy_info(const std::string& peer) const {
  std::lock_guard lock(impl_->mutex);
  for (const auto& p : impl_->peers)
    if (p->config.name == peer) return p->info;
  return std::nullopt;
}

}  // namespace sixgate::channel
