#pragma once
// The wire format of one channel datagram (docs/channel-protocol.md, "Wire format"):
//
//   0  magic "SGCH"     4  version (1)     5  type     6  site length     7  sender length
//   8  counter (u64, big endian: sender wall-clock microseconds, strictly increasing per sender)
//   16 payload length (u16)   18 reserved (u16, zero)
//   20 site | sender | payload (JSON) | HMAC-SHA256 over every byte before it (32)
//
// parse_envelope() only checks structure (it is the untrusted-input parser the fuzz target drives);
// authenticity is checked separately with verify_mac(), using the key of the claimed site.
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/channel/key.hpp"
#include "common/channel/mac.hpp"
#include "common/channel/protocol.hpp"
#include "common/result.hpp"

namespace sixgate::channel {

struct Message {
  MessageType type = MessageType::agent_report;
  std::string site;
  std::string sender;
  std::uint64_t counter = 0;
  std::string payload;  // JSON text
};

// Why a datagram was refused, with a short detail for logs (never contains the raw bytes).
struct Rejection {
  DropReason reason;
  std::string detail;
};

// A structurally valid datagram: the decoded fields plus the authenticated span and the MAC it carries.
struct Envelope {
  std::uint8_t version = 0;
  std::uint8_t raw_type = 0;
  Message message;
  std::span<const std::uint8_t> signed_bytes;  // into the parsed buffer
  Mac mac{};
};

// Fails when a name is invalid or the datagram would exceed kMaxDatagram.
Result<std::vector<std::uint8_t>> encode_message(const Message& message, const SiteKey& key);

// The size encode_message() would produce.
std::size_t encoded_size(const Message& message);

std::variant<Envelope, Rejection> parse_envelope(std::span<const std::uint8_t> datagram);

bool verify_mac(const Envelope& envelope, const SiteKey& key);

}  // namespace sixgate::channel
