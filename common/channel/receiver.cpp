#include "common/channel/receiver.hpp"

#include "common/log.hpp"

namespace sixgate::channel {

std::uint64_t DropCounters::dropped() const {
  std::uint64_t n = 0;
  for (auto v : by_reason) n += v;
  return n;
}

nlohmann::json DropCounters::to_json() const {
  nlohmann::json dropped = nlohmann::json::object();
  for (std::size_t i = 0; i < kDropReasonCount; ++i)
    dropped[std::string(channel::to_string(static_cast<DropReason>(i)))] = by_reason[i];
  return {{"accepted", accepted}, {"dropped", dropped}};
}

Receiver::Receiver(std::map<std::string, SiteKey> keys_by_site, MessageType expect, WallMicros floor)
    : keys_(std::move(keys_by_site)), expect_(expect), replay_(floor) {
  for (const auto& [site, key] : keys_) per_site_[site];
}

std::variant<Accepted, Rejection> Receiver::receive(std::span<const std::uint8_t> datagram, WallMicros now,
                                                    const std::string& peer) {
  auto parsed = parse_envelope(datagram);
  if (auto* r = std::get_if<Rejection>(&parsed)) return drop(std::move(*r), {}, peer);
  auto& env = std::get<Envelope>(parsed);
  const std::string& site = env.message.site;
  if (env.message.type != expect_)
    return drop({DropReason::unexpected_type, std::string(to_string(env.message.type))}, {}, peer);
  auto key = keys_.find(site);
  if (key == keys_.end()) return drop({DropReason::unknown_site, "site " + site}, {}, peer);
  if (!verify_mac(env, key->second)) return drop({DropReason::bad_mac, "site " + site}, site, peer);
  if (auto reason = replay_.check(site, env.message.sender, env.message.counter, now))
    return drop({*reason, "site " + site + " sender " + env.message.sender}, site, peer);
  // Authentic and fresh: the counter is used up even if the payload turns out to be bad.
  replay_.accept(site, env.message.sender, env.message.counter, now);
  auto payload = parse_payload_text(env.message.payload);
  if (!payload) return drop({DropReason::bad_payload, payload.error().message}, site, peer);
  ++counters_.accepted;
  ++per_site_[site].accepted;
  return Accepted{std::move(env.message), std::move(*payload)};
}

void Receiver::reject_payload(const std::string& site, const std::string& detail, const std::string& peer) {
  if (counters_.accepted > 0) --counters_.accepted;
  auto s = per_site_.find(site);
  if (s != per_site_.end() && s->second.accepted > 0) --s->second.accepted;
  drop({DropReason::bad_payload, detail}, site, peer);
}

Rejection Receiver::drop(Rejection r, const std::string& site, const std::string& peer) {
  counters_.count(r.reason);
  if (!site.empty()) per_site_[site].count(r.reason);
  if (log_bucket_.allow(TokenBucket::Clock::now())) {
    log::event(spdlog::level::warn, "channel_drop",
               {{"reason", to_string(r.reason)},
                {"detail", log::bounded(r.detail, 200)},
                {"peer", log::bounded(peer, 80)},
                {"suppressed_before", log_bucket_.take_suppressed()}});
  }
  return r;
}

}  // namespace sixgate::channel
