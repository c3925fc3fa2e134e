#include "proxy/core/client_hello.hpp"

#include <algorithm>
#include <utility>

namespace sixgate::proxy {
namespace {

constexpr std::uint8_t kHandshakeRecord = 0x16;
constexpr std::uint8_t kClientHello = 1;
constexpr std::size_t kMaxRecordPayload = 16384;  // RFC 8446 §5.1: TLSPlaintext.length <= 2^14
constexpr std::uint16_t kServerNameExtension = 0;
constexpr std::uint16_t kAlpnExtension = 16;
constexpr std::uint8_t kHostNameType = 0;

}  // namespace

ClientHelloParser::ClientHelloParser(HelloLimits limits) : limits_(limits) {}

ClientHelloParser::State ClientHelloParser::feed(std::span<const std::uint8_t> bytes) {
  if (state_ == State::need_more) consume_record_bytes(bytes);
  return state_;
}

void ClientHelloParser::fail(std::string_view reason, std::string detail) {
  state_ = State::failed;
  failure_reason_ = reason;
  failure_detail_ = std::move(detail);
}

// The record layer: 5-byte headers, then payload bytes handed to the handshake layer. A handshake message may
// span records (RFC 8446 §5.1), but every record until its end must be a handshake record.
void ClientHelloParser::consume_record_bytes(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty() && state_ == State::need_more) {
    if (record_left_ == 0) {
      record_header_[record_header_have_++] = bytes.front();
      bytes = bytes.subspan(1);
      ++consumed_;
      if (records_seen_ == 0 && record_header_have_ == 1 && record_header_[0] != kHandshakeRecord &&
          (record_header_[0] & 0x80) == 0) {
        return fail("not_tls", "first byte is not a TLS handshake record type");
      }
      if (records_seen_ > 0 && record_header_have_ == 1 && record_header_[0] != kHandshakeRecord) {
        return fail("bad_record", "record of content type " + std::to_string(record_header_[0]) +
                                      " inside the ClientHello");
      }
      if (records_seen_ == 0 && record_header_have_ == 3 && record_header_[0] != kHandshakeRecord) {
        // SSLv2 record: 2-byte header with the high bit set, then message type 1 (CLIENT-HELLO).
        if (record_header_[2] == kClientHello) return fail("sslv2", "SSLv2-compatible ClientHello");
        return fail("not_tls", "first bytes are neither a TLS record nor an SSLv2 hello");
      }
      if (record_header_have_ == sizeof record_header_) on_record_header();
      continue;
    }
    const std::size_t n = consume_handshake_bytes(bytes.first(std::min(record_left_, bytes.size())));
    record_left_ -= n;
    bytes = bytes.subspan(n);
    consumed_ += n;
  }
}

void ClientHelloParser::on_record_header() {
  record_header_have_ = 0;
  const std::size_t length = std::size_t{record_header_[3]} << 8 | record_header_[4];
  if (record_header_[0] != kHandshakeRecord) return fail("not_tls", "first record is not a handshake record");
  if (record_header_[1] != 3 || record_header_[2] > 4) {
    return fail("bad_record", "record version is not 0x0300..0x0304");
  }
  if (length == 0) return fail("bad_record", "zero-length handshake record");
  if (length > kMaxRecordPayload) return fail("bad_record", "record longer than 2^14 bytes");
  record_left_ = length;
  ++records_seen_;
}

// The handshake layer reads one field at a time; `want_` bytes of it are still missing. Returns how many
// bytes it used: all of them, unless the ClientHello ended or the parse failed.
std::size_t ClientHelloParser::consume_handshake_bytes(std::span<const std::uint8_t> bytes) {
  std::size_t used = 0;
  while (used < bytes.size() && state_ == State::need_more) {
    const std::size_t n = std::min(want_, bytes.size() - used);
    const auto chunk = bytes.subspan(used, n);
    switch (keep_) {
      case Keep::integer:
        for (std::uint8_t b : chunk) integer_ = integer_ << 8 | b;
        break;
      case Keep::text:
        if (keep_text_) text_.append(chunk.begin(), chunk.end());
        break;
      case Keep::nothing:
        break;
    }
    for (std::size_t i = 0; i < depth_; ++i) containers_[i] -= n;  // expect() made sure the field fits
    want_ -= n;
    used += n;
    if (want_ == 0) on_field();
  }
  return used;
}

// Starts the next field after checking that it fits in the innermost open container (each container was
// checked against its parent when it was opened, so that check covers all of them).
void ClientHelloParser::expect(Step step, std::size_t length, Keep keep) {
  if (depth_ > 0 && length > containers_[depth_ - 1]) {
    return fail("bad_length", "a length field points past the end of its container");
  }
  step_ = step;
  want_ = length;
  keep_ = keep;
  integer_ = 0;
  text_.clear();
  if (length == 0) on_field();
}

bool ClientHelloParser::push_container(std::size_t length) {
  if (depth_ > 0 && length > containers_[depth_ - 1]) {
    fail("bad_length", "a length field points past the end of its container");
    return false;
  }
  containers_[depth_++] = length;
  return true;
}

void ClientHelloParser::on_field() {
  const std::uint32_t v = integer_;
  switch (step_) {
    case Step::handshake_header: {
      if (v >> 24 != kClientHello)
        return fail("not_client_hello", "first handshake message is not a ClientHello");
      const std::size_t length = v & 0xffffff;
      if (length + 4 > limits_.max_hello_bytes) {
        return fail("too_large", "ClientHello of " + std::to_string(length + 4) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(limits_.max_hello_bytes));
      }
      if (length == 0) return fail("bad_length", "empty ClientHello");
      push_container(length);
      return expect(Step::legacy_version, 2, Keep::integer);
    }
    case Step::legacy_version:
      if (v >> 8 != 3) return fail("bad_version", "ClientHello legacy_version is not 3.x");
      return expect(Step::random, 32, Keep::nothing);
    case Step::random:
      return expect(Step::session_id_length, 1, Keep::integer);
    case Step::session_id_length:
      if (v > 32) return fail("bad_length", "legacy_session_id longer than 32 bytes");
      return expect(Step::session_id, v, Keep::nothing);
    case Step::session_id:
      return expect(Step::cipher_suites_length, 2, Keep::integer);
    case Step::cipher_suites_length:
      if (v == 0 || v % 2 != 0) return fail("bad_length", "cipher_suites length is zero or odd");
      return expect(Step::cipher_suites, v, Keep::nothing);
    case Step::cipher_suites:
      return expect(Step::compression_methods_length, 1, Keep::integer);
    case Step::compression_methods_length:
      if (v == 0) return fail("bad_length", "no compression methods");
      return expect(Step::compression_methods, v, Keep::nothing);
    case Step::compression_methods:
      if (containers_[0] == 0) {  // a ClientHello without extensions (allowed before TLS 1.3)
        state_ = State::done;
        return;
      }
      return expect(Step::extensions_length, 2, Keep::integer);
    case Step::extensions_length:
      // The extensions block must fill the rest of the message exactly.
      if (v != containers_[0])
        return fail("bad_length", "extensions length does not match the ClientHello length");
      if (v == 0) {
        state_ = State::done;
        return;
      }
      push_container(v);
      return expect(Step::extension_header, 4, Keep::integer);
    case Step::extension_header:
      return on_extension_header(static_cast<std::uint16_t>(v >> 16), static_cast<std::uint16_t>(v & 0xffff));
    case Step::extension_body:
      return end_extension();
    case Step::server_name_list_length:
      if (v == 0) return fail("bad_sni", "empty server_name_list");
      if (v != containers_[depth_ - 1]) {
        return fail("bad_length", "server_name_list length does not match the extension length");
      }
      if (!push_container(v)) return;
      return expect(Step::server_name_entry_header, 3, Keep::integer);
    case Step::server_name_entry_header: {
      const std::size_t length = v & 0xffff;
      server_name_type_ = static_cast<std::uint16_t>(v >> 16);
      if (length == 0) return fail("bad_sni", "empty server name");
      const bool first_host_name = server_name_type_ == kHostNameType && !server_name_;
      keep_text_ = first_host_name;
      return expect(Step::server_name_entry, length, first_host_name ? Keep::text : Keep::nothing);
    }
    case Step::server_name_entry:
      if (keep_text_) server_name_ = std::move(text_);
      keep_text_ = false;
      if (containers_[depth_ - 1] > 0) return expect(Step::server_name_entry_header, 3, Keep::integer);
      return end_list_item();
    case Step::alpn_list_length:
      if (v < 2) return fail("bad_alpn", "ALPN protocol_name_list shorter than 2 bytes");
      if (v != containers_[depth_ - 1])
        return fail("bad_length", "ALPN list length does not match the extension length");
      if (!push_container(v)) return;
      return expect(Step::alpn_name_length, 1, Keep::integer);
    case Step::alpn_name_length:
      if (v == 0) return fail("bad_alpn", "empty ALPN protocol name");
      keep_text_ = alpn_.size() < limits_.max_alpn_names;
      return expect(Step::alpn_name, v, keep_text_ ? Keep::text : Keep::nothing);
    case Step::alpn_name:
      if (keep_text_) alpn_.push_back(std::move(text_));
      keep_text_ = false;
      if (containers_[depth_ - 1] > 0) return expect(Step::alpn_name_length, 1, Keep::integer);
      return end_list_item();
  }
}

void ClientHelloParser::on_extension_header(std::uint16_t type, std::uint16_t length) {
  if (!extension_types_.insert(type).second) {
    return fail("duplicate_extension", "extension type " + std::to_string(type) + " appears twice");
  }
  if (!push_container(length)) return;
  if (type == kServerNameExtension) {
    if (length == 0) return fail("bad_sni", "server_name extension without a server_name_list");
    return expect(Step::server_name_list_length, 2, Keep::integer);
  }
  if (type == kAlpnExtension) {
    if (length == 0) return fail("bad_alpn", "ALPN extension without a protocol_name_list");
    return expect(Step::alpn_list_length, 2, Keep::integer);
  }
  return expect(Step::extension_body, length, Keep::nothing);
}

// The list inside an extension ended: its extension must end with it.
void ClientHelloParser::end_list_item() {
  --depth_;  // the list
  if (containers_[depth_ - 1] != 0) return fail("bad_length", "bytes after the list inside an extension");
  end_extension();
}

void ClientHelloParser::end_extension() {
  --depth_;  // the extension
  if (containers_[depth_ - 1] > 0) return expect(Step::extension_header, 4, Keep::integer);
  --depth_;  // the extensions block, which fills the rest of the message
  state_ = State::done;
}

std::string_view to_string(ClientHelloParser::State s) {
  switch (s) {
    case ClientHelloParser::State::need_more:
      return "need_more";
    case ClientHelloParser::State::done:
      return "done";
    case ClientHelloParser::State::failed:
      return "failed";
  }
  return "?";
}

}  // namespace sixgate::proxy
