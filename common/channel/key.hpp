#pragma once
// A site's pre-shared channel key. The key file holds at least 64 hex digits (32 bytes, e.g. the output of
// `openssl rand -hex 32`); surrounding whitespace is ignored. The file must be a regular file readable by its
// owner only: any group or other permission bit is refused, so a leaked key is never a silent default.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sixgate::channel {

class SiteKey {
 public:
  SiteKey() = default;
  // Parses hex text (at least kMinKeyBytes bytes, even number of digits, whitespace around it allowed).
  static Result<SiteKey> from_hex(std::string_view text);
  // Raw bytes (tests, fuzzing); refuses fewer than kMinKeyBytes.
  static Result<SiteKey> from_bytes(std::vector<std::uint8_t> bytes);

  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

// Reads and checks a key file (permissions as above, at most 4 KiB). Errors name the path.
Result<SiteKey> load_key_file(const std::string& path);

}  // namespace sixgate::channel
