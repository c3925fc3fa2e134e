// Input: a DNS response as a resolver might return it (untrusted: any server on the path can shape it).
// Invariants: reading never leaves the message; a TTL that was found comes from bytes inside the message,
// so bytes appended after it change nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "proxy/resolver.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy, so ASan sees any read one byte past the message.
  std::vector<std::uint8_t> message(data, data + size);
  const auto ttl = sixgate::proxy::negative_answer_ttl(message);
  if (ttl) {
    message.insert(message.end(), {0xc0, 0x0c, 0x00, 0x06, 0xff, 0xff, 0xff, 0xff});
    if (sixgate::proxy::negative_answer_ttl(message) != ttl) std::abort();
  }
  return 0;
}
