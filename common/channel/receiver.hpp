#pragma once
// The receiving half of the protocol, shared by the proxy's server and the agent's client. Pure apart from
// the log line: the caller passes the datagram and the wall-clock time.
//
// Order of checks (cheap and unauthenticated first, nothing trusted before the MAC):
//   size -> structure -> version -> type -> site has a key -> MAC with that site's key -> window/replay ->
//   payload schema.
// The key is chosen by the site the datagram claims, so a message made with site A's key that claims site B
// fails the MAC.
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/channel/key.hpp"
#include "common/channel/message.hpp"
#include "common/channel/payload.hpp"
#include "common/channel/protocol.hpp"
#include "common/channel/rate_limit.hpp"
#include "common/channel/replay.hpp"

namespace sixgate::channel {

struct DropCounters {
  std::array<std::uint64_t, kDropReasonCount> by_reason{};
  std::uint64_t accepted = 0;

  void count(DropReason reason) { ++by_reason[static_cast<std::size_t>(reason)]; }
  std::uint64_t operator[](DropReason reason) const { return by_reason[static_cast<std::size_t>(reason)]; }
  std::uint64_t dropped() const;
  nlohmann::json to_json() const;  // {"accepted":n,"dropped":{"bad_mac":n,...}}
};

struct Accepted {
  Message message;
  nlohmann::json payload;  // parsed; schema checked by the caller's payload type via `expect`
};

class Receiver {
 public:
  // `expect`: the only message type this side receives. `floor`: the receiver's start time (see
  // ReplayWindow).
  Receiver(std::map<std::string, SiteKey> keys_by_site, MessageType expect, WallMicros floor);

  // Checks one datagram. Accepted messages advance the replay window; rejections are counted and logged at a
  // bounded rate (event "channel_drop", with `peer` as the source address text).
  std::variant<Accepted, Rejection> receive(std::span<const std::uint8_t> datagram, WallMicros now,
                                            const std::string& peer = {});

  // For a payload that fails the caller's schema check after receive() accepted the envelope.
  void reject_payload(const std::string& site, const std::string& detail, const std::string& peer);

  const DropCounters& counters() const { return counters_; }
  // Per configured site: only reasons found after the site was identified (bad_mac, stale, replay, payload).
  const std::map<std::string, DropCounters>& site_counters() const { return per_site_; }

 private:
  Rejection drop(Rejection r, const std::string& site, const std::string& peer);

  std::map<std::string, SiteKey> keys_;
  MessageType expect_;
  ReplayWindow replay_;
  DropCounters counters_;
  std::map<std::string, DropCounters> per_site_;
  TokenBucket log_bucket_{10, 1};
};

}  // namespace sixgate::channel
