#pragma once
// Builds ClientHello messages and TLS records for the parser tests, remembering where every length field is
// so tests can corrupt each one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sixgate::proxy::test {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint16_t kServerName = 0, kAlpn = 16, kPadding = 21, kSupportedVersions = 43,
                               kKeyShare = 51, kSupportedGroups = 10;

struct LengthField {
  std::string name;
  std::size_t offset;  // in the handshake message (header included)
  std::size_t size;    // 1, 2 or 3 bytes
};

inline void put(Bytes& out, std::uint32_t value, std::size_t size) {
  for (std::size_t i = size; i-- > 0;) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}
inline void put(Bytes& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}
inline void put(Bytes& out, const Bytes& b) {
  out.insert(out.end(), b.begin(), b.end());
}

class HelloBuilder {
 public:
  HelloBuilder() : session_id_(32, 0x5a) {}

  HelloBuilder& session_id(Bytes id) {
    session_id_ = std::move(id);
    return *this;
  }
  HelloBuilder& cipher_suites(std::vector<std::uint16_t> suites) {
    suites_ = std::move(suites);
    return *this;
  }
  HelloBuilder& without_extensions_block() {
    omit_extensions_ = true;
    return *this;
  }
  HelloBuilder& extension(std::uint16_t type, Bytes data) {
    extensions_.push_back({type, std::move(data), {}});
    return *this;
  }
  // server_name extension with any entries (name_type, name).
  HelloBuilder& sni_entries(std::vector<std::pair<std::uint8_t, std::string>> entries) {
    Ext e{kServerName, {}, {}};
    Bytes list;
    for (const auto& [type, name] : entries) {
      put(list, type, 1);
      e.inner_lengths.push_back({"server_name name_len", 2 + list.size(), 2});
      put(list, static_cast<std::uint32_t>(name.size()), 2);
      put(list, name);
    }
    e.inner_lengths.insert(e.inner_lengths.begin(), {"server_name_list length", 0, 2});
    put(e.data, static_cast<std::uint32_t>(list.size()), 2);
    put(e.data, list);
    extensions_.push_back(std::move(e));
    return *this;
  }
  HelloBuilder& sni(const std::string& name) { return sni_entries({{0, name}}); }
  HelloBuilder& alpn(std::initializer_list<std::string_view> names) {
    Ext e{kAlpn, {}, {}};
    Bytes list;
    for (auto n : names) {
      e.inner_lengths.push_back({"ALPN name length", 2 + list.size(), 1});
      put(list, static_cast<std::uint32_t>(n.size()), 1);
      put(list, n);
    }
    e.inner_lengths.insert(e.inner_lengths.begin(), {"ALPN list length", 0, 2});
    put(e.data, static_cast<std::uint32_t>(list.size()), 2);
    put(e.data, list);
    extensions_.push_back(std::move(e));
    return *this;
  }
  // A post-quantum key_share as Chrome sends it: GREASE entry, X25519MLKEM768 (1216 bytes), X25519.
  HelloBuilder& pq_key_share() {
    Bytes shares;
    put(shares, 0x8a8a, 2);
    put(shares, 1, 2);
    shares.push_back(0);
    put(shares, 0x11ec, 2);
    put(shares, 1216, 2);
    shares.insert(shares.end(), 1216, 0xab);
    put(shares, 0x001d, 2);
    put(shares, 32, 2);
    shares.insert(shares.end(), 32, 0xcd);
    Bytes data;
    put(data, static_cast<std::uint32_t>(shares.size()), 2);
    put(data, shares);
    return extension(kKeyShare, std::move(data));
  }
  HelloBuilder& padding(std::size_t n) { return extension(kPadding, Bytes(n, 0)); }

  // The handshake message: type 1, 3-byte length, body. Fills length_fields().
  Bytes message() {
    fields_.clear();
    Bytes m;
    m.push_back(1);
    fields_.push_back({"handshake length", m.size(), 3});
    put(m, 0, 3);
    put(m, 0x0303, 2);
    m.insert(m.end(), 32, 0x42);  // random
    fields_.push_back({"session_id length", m.size(), 1});
    put(m, static_cast<std::uint32_t>(session_id_.size()), 1);
    put(m, session_id_);
    fields_.push_back({"cipher_suites length", m.size(), 2});
    put(m, static_cast<std::uint32_t>(suites_.size() * 2), 2);
    for (auto s : suites_) put(m, s, 2);
    fields_.push_back({"compression_methods length", m.size(), 1});
    put(m, 1, 1);
    put(m, 0, 1);
    if (!omit_extensions_) {
      fields_.push_back({"extensions length", m.size(), 2});
      const std::size_t ext_len_at = m.size();
      put(m, 0, 2);
      for (const auto& e : extensions_) {
        put(m, e.type, 2);
        fields_.push_back({"extension " + std::to_string(e.type) + " length", m.size(), 2});
        put(m, static_cast<std::uint32_t>(e.data.size()), 2);
        for (const auto& f : e.inner_lengths) fields_.push_back({f.name, m.size() + f.offset, f.size});
        put(m, e.data);
      }
      set(m, ext_len_at, m.size() - ext_len_at - 2, 2);
    }
    set(m, 1, m.size() - 4, 3);
    return m;
  }
  const std::vector<LengthField>& length_fields() const { return fields_; }

  static void set(Bytes& m, std::size_t at, std::size_t value, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i)
      m[at + i] = static_cast<std::uint8_t>(value >> (8 * (size - 1 - i)));
  }
  static std::size_t get(const Bytes& m, std::size_t at, std::size_t size) {
    std::size_t v = 0;
    for (std::size_t i = 0; i < size; ++i) v = v << 8 | m[at + i];
    return v;
  }

 private:
  struct Ext {
    std::uint16_t type;
    Bytes data;
    std::vector<LengthField> inner_lengths;  // offsets relative to the extension data
  };
  Bytes session_id_;
  std::vector<std::uint16_t> suites_{0x1301, 0x1302, 0xc02b};
  std::vector<Ext> extensions_;
  bool omit_extensions_ = false;
  std::vector<LengthField> fields_;
};

// One TLS record around `payload`.
inline Bytes record(const Bytes& payload, std::uint8_t type = 0x16, std::uint16_t version = 0x0301) {
  Bytes r;
  put(r, type, 1);
  put(r, version, 2);
  put(r, static_cast<std::uint32_t>(payload.size()), 2);
  put(r, payload);
  return r;
}

// The message cut into records of at most `max_payload` bytes each.
inline Bytes records(const Bytes& message, std::size_t max_payload) {
  Bytes out;
  for (std::size_t at = 0; at < message.size(); at += max_payload) {
    put(out,
        record(Bytes(message.begin() + at, message.begin() + std::min(message.size(), at + max_payload))));
  }
  return out;
}

}  // namespace sixgate::proxy::test
