#pragma once
// HMAC-SHA256 (OpenSSL) and a constant-time comparison for MAC checks.
#include <array>
#include <cstdint>
#include <span>

#include "common/channel/key.hpp"
#include "common/channel/protocol.hpp"

namespace sixgate::channel {

using Mac = std::array<std::uint8_t, kMacSize>;

Mac hmac_sha256(const SiteKey& key, std::span<const std::uint8_t> data);

// Constant time in the length of the MACs (CRYPTO_memcmp).
bool mac_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

}  // namespace sixgate::channel
