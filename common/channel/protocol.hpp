#pragma once
// Constants and vocabulary of the agent<->proxy channel protocol, version 1 (docs/channel-protocol.md).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sixgate::channel {

inline constexpr std::array<std::uint8_t, 4> kMagic{'S', 'G', 'C', 'H'};
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize =
    20;  // magic, version, type, site len, sender len, counter, payload len, reserved
inline constexpr std::size_t kMacSize = 32;  // HMAC-SHA256
inline constexpr std::size_t kMaxDatagram = 1200;
inline constexpr std::size_t kMaxNameLength = 63;  // site name and sender id
inline constexpr std::size_t kMinKeyBytes = 32;
inline constexpr std::uint16_t kDefaultPort = 7443;
// A message whose counter (sender wall-clock microseconds) is further than this from the receiver's clock is
// stale.
inline constexpr std::chrono::seconds kTimestampWindow{30};

enum class MessageType : std::uint8_t {
  agent_report = 1,  // agent -> proxy
  proxy_info = 2,    // proxy -> agent, the reply to every accepted agent_report
};
std::string_view to_string(MessageType type);

// Why a received datagram was dropped. Every reason is counted separately.
enum class DropReason : std::uint8_t {
  oversize,         // longer than kMaxDatagram
  malformed,        // bad magic, short, lengths inconsistent, bad name characters, reserved bits set
  bad_version,      // a protocol version this build does not speak
  unexpected_type,  // unknown type, or a type this side never receives
  unknown_site,     // no key for the claimed site
  bad_mac,          // wrong key or modified bytes
  stale,            // counter (timestamp) outside the window
  replay,       // counter not above the last one seen from this sender (or from before this receiver started)
  bad_payload,  // authentic, but the JSON payload does not match the schema
};
inline constexpr std::size_t kDropReasonCount = 9;
std::string_view to_string(DropReason reason);

// Site names and sender ids: 1..63 bytes of [A-Za-z0-9._-].
bool valid_name(std::string_view name);

}  // namespace sixgate::channel
