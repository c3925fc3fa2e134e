#pragma once
// Fixed keys for the channel tests.
#include <cstdint>
#include <vector>

#include "common/channel/key.hpp"

namespace sixgate::channel::testing {

inline SiteKey key_of(std::uint8_t fill) {
  return SiteKey::from_bytes(std::vector<std::uint8_t>(32, fill)).value();
}

}  // namespace sixgate::channel::testing
