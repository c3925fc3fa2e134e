#include "common/channel/mac.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/result.hpp"

namespace sixgate::channel {

Mac hmac_sha256(const SiteKey& key, std::span<const std::uint8_t> data) {
  Mac out{};
  unsigned int len = 0;
  const auto& k = key.bytes();
  // An empty key would make HMAC() use a NULL pointer; SiteKey guarantees at least kMinKeyBytes.
  if (HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()), data.data(), data.size(), out.data(), &len) ==
          nullptr ||
      len != out.size())
    throw Failure("HMAC-SHA256 failed (OpenSSL)");
  return out;
}

bool mac_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sixgate::channel
