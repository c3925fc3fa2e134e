#include "common/channel/message.hpp"

#include <algorithm>
#include <cstring>

namespace sixgate::channel {
namespace {

void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

std::uint64_t get_u64(std::span<const std::uint8_t> b, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | b[at + i];
  return v;
}

std::uint16_t get_u16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

Rejection reject(DropReason reason, std::string detail) {
  return Rejection{reason, std::move(detail)};
}

}  // namespace

std::size_t encoded_size(const Message& m) {
  return kHeaderSize + m.site.size() + m.sender.size() + m.payload.size() + kMacSize;
}

Result<std::vector<std::uint8_t>> encode_message(const Message& m, const SiteKey& key) {
  if (!valid_name(m.site)) return make_error("channel message: invalid site name");
  if (!valid_name(m.sender)) return make_error("channel message: invalid sender id");
  const std::size_t size = encoded_size(m);
  if (size > kMaxDatagram)
    return make_error("channel message: " + std::to_string(size) + " bytes, more than " +
                      std::to_string(kMaxDatagram));
  std::vector<std::uint8_t> out;
  out.reserve(size);
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  out.push_back(kVersion);
  out.push_back(static_cast<std::uint8_t>(m.type));
  out.push_back(static_cast<std::uint8_t>(m.site.size()));
  out.push_back(static_cast<std::uint8_t>(m.sender.size()));
  put_u64(out, m.counter);
  put_u16(out, static_cast<std::uint16_t>(m.payload.size()));
  put_u16(out, 0);
  out.insert(out.end(), m.site.begin(), m.site.end());
  out.insert(out.end(), m.sender.begin(), m.sender.end());
  out.insert(out.end(), m.payload.begin(), m.payload.end());
  Mac mac = hmac_sha256(key, out);
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

std::variant<Envelope, Rejection> parse_envelope(std::span<const std::uint8_t> d) {
  if (d.size() > kMaxDatagram) return reject(DropReason::oversize, std::to_string(d.size()) + " bytes");
  if (d.size() < kHeaderSize + 2 + kMacSize)
    return reject(DropReason::malformed, "short datagram (" + std::to_string(d.size()) + " bytes)");
  if (!std::equal(kMagic.begin(), kMagic.end(), d.begin())) return reject(DropReason::malformed, "bad magic");
  Envelope env;
  env.version = d[4];
  if (env.version != kVersion)
    return reject(DropReason::bad_version, "version " + std::to_string(env.version));
  env.raw_type = d[5];
  const std::size_t site_len = d[6];
  const std::size_t sender_len = d[7];
  env.message.counter = get_u64(d, 8);
  const std::size_t payload_len = get_u16(d, 16);
  if (get_u16(d, 18) != 0) return reject(DropReason::malformed, "reserved bits set");
  if (site_len == 0 || site_len > kMaxNameLength || sender_len == 0 || sender_len > kMaxNameLength)
    return reject(DropReason::malformed, "bad name length");
  // All lengths are at most 16 bits, so this sum cannot overflow.
  const std::size_t expected = kHeaderSize + site_len + sender_len + payload_len + kMacSize;
  if (d.size() != expected)
    return reject(DropReason::malformed,
                  "length " + std::to_string(d.size()) + " but fields say " + std::to_string(expected));
  std::size_t at = kHeaderSize;
  env.message.site.assign(reinterpret_cast<const char*>(d.data() + at), site_len);
  at += site_len;
  env.message.sender.assign(reinterpret_cast<const char*>(d.data() + at), sender_len);
  at += sender_len;
  env.message.payload.assign(reinterpret_cast<const char*>(d.data() + at), payload_len);
  at += payload_len;
  if (!valid_name(env.message.site) || !valid_name(env.message.sender))
    return reject(DropReason::malformed, "bad characters in site or sender");
  env.signed_bytes = d.first(at);
  std::memcpy(env.mac.data(), d.data() + at, kMacSize);
  if (env.raw_type != static_cast<std::uint8_t>(MessageType::agent_report) &&
      env.raw_type != static_cast<std::uint8_t>(MessageType::proxy_info))
    return reject(DropReason::unexpected_type, "type " + std::to_string(env.raw_type));
  env.message.type = static_cast<MessageType>(env.raw_type);
  return env;
}

bool verify_mac(const Envelope& envelope, const SiteKey& key) {
  Mac expected = hmac_sha256(key, envelope.signed_bytes);
  return mac_equal(expected, envelope.mac);
}

}  // namespace sixgate::channel
