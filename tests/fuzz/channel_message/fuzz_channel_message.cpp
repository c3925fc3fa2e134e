// Untrusted channel datagrams. The first input byte picks what the rest is:
//   0: a raw datagram for the proxy-side Receiver (structure, site lookup, MAC, replay);
//   1: a datagram whose MAC the harness fixes up with the site's key first, so the fuzzer reaches the
//      replay window and the JSON payload schema behind the MAC;
//   2: payload text, parsed and checked against both payload schemas.
// Invariants: nothing crashes; a structurally valid envelope re-encodes to the same bytes; a payload accepted
// by a schema survives to_json/from_json unchanged.
#include <spdlog/spdlog.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>
#include <vector>

#include "common/channel/message.hpp"
#include "common/channel/payload.hpp"
#include "common/channel/receiver.hpp"

using namespace sixgate::channel;

namespace {

constexpr WallMicros kNow = 1'764'070'000'000'000ULL;  // the seeds use counters near this

SiteKey key_of(std::uint8_t fill) {
  return SiteKey::from_bytes(std::vector<std::uint8_t>(32, fill)).value();
}

void check_payload_schemas(const nlohmann::json& j) {
  if (auto r = agent_report_from_json(j)) {
    auto again = agent_report_from_json(to_json(*r));
    if (!again || to_json(*again) != to_json(*r)) std::abort();
  }
  if (auto i = proxy_info_from_json(j)) {
    auto again = proxy_info_from_json(to_json(*i));
    if (!again || to_json(*again) != to_json(*i)) std::abort();
  }
}

void check_reencode(const Envelope& env, std::span<const std::uint8_t> bytes) {
  // Same fields, same key-independent prefix: everything before the MAC must be identical.
  auto again = encode_message(env.message, key_of(0x55));
  if (!again || again->size() != bytes.size()) std::abort();
  for (std::size_t i = 0; i + kMacSize < bytes.size(); ++i)
    if ((*again)[i] != bytes[i]) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0] % 3;
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  static const std::map<std::string, SiteKey> keys{{"home", key_of(1)}, {"friend", key_of(2)}};

  if (mode == 2) {
    auto j = parse_payload_text(std::string_view(reinterpret_cast<const char*>(rest.data()), rest.size()));
    if (j) check_payload_schemas(*j);
    return 0;
  }

  std::vector<std::uint8_t> datagram(rest.begin(), rest.end());
  auto parsed = parse_envelope(datagram);
  if (auto* env = std::get_if<Envelope>(&parsed)) {
    check_reencode(*env, datagram);
    if (mode == 1) {
      auto key = keys.find(env->message.site);
      if (key != keys.end()) {
        Mac mac = hmac_sha256(key->second, env->signed_bytes);
        std::copy(mac.begin(), mac.end(), datagram.end() - kMacSize);
      }
    }
  }
  Receiver rx(keys, MessageType::agent_report, kNow - 60'000'000ULL);
  auto r = rx.receive(datagram, kNow, "fuzz");
  if (auto* acc = std::get_if<Accepted>(&r)) {
    check_payload_schemas(acc->payload);
    // The same datagram again is always a replay.
    auto again = rx.receive(datagram, kNow, "fuzz");
    auto* rej = std::get_if<Rejection>(&again);
    if (rej == nullptr || rej->reason != DropReason::replay) std::abort();
  }
  if (rx.counters().accepted + rx.counters().dropped() == 0) std::abort();
  return 0;
}
