// Input: one byte choosing how the rest is cut into feed() calls, then the bytes a client sent.
// Invariants: the outcome (state, reason, name, ALPN, bytes consumed) does not depend on the cuts; a failure
// has a reason and a printable detail; a name passes or fails canonicalisation, and a canonical name is a
// fixed point of it; nothing changes after the end.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proxy/core/client_hello.hpp"
#include "proxy/core/hostname.hpp"

using sixgate::proxy::ClientHelloParser;
using State = ClientHelloParser::State;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

// Chunk sizes from a tiny LCG seeded by `pattern`: mostly small (1..8 bytes), sometimes large.
void feed_in_pieces(ClientHelloParser& p, std::span<const std::uint8_t> bytes, std::uint8_t pattern) {
  std::uint32_t x = pattern * 2654435761u + 1;
  while (!bytes.empty()) {
    x = x * 1664525u + 1013904223u;
    const std::size_t n = (x >> 28) < 12 ? 1 + ((x >> 16) & 7) : 1 + ((x >> 8) & 4095);
    const auto piece = bytes.first(n < bytes.size() ? n : bytes.size());
    p.feed(piece);
    bytes = bytes.subspan(piece.size());
  }
}

bool printable(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::uint8_t> stream(data + 1, size - 1);

  ClientHelloParser whole;
  whole.feed(stream);
  ClientHelloParser pieces;
  feed_in_pieces(pieces, stream, data[0]);

  check(whole.state() == pieces.state());
  check(whole.failure_reason() == pieces.failure_reason());
  check(whole.failure_detail() == pieces.failure_detail());
  check(whole.server_name() == pieces.server_name());
  check(whole.alpn() == pieces.alpn());
  check(whole.consumed() == pieces.consumed());
  check(whole.consumed() <= stream.size());

  if (whole.state() == State::failed) {
    check(!whole.failure_reason().empty());
    check(printable(whole.failure_detail()));
  } else {
    check(whole.failure_reason().empty());
  }
  if (whole.state() == State::need_more) check(whole.consumed() == stream.size());

  if (whole.state() == State::done && whole.server_name()) {
    const auto canonical = sixgate::proxy::canonical_hostname(*whole.server_name());
    if (canonical.ok()) {
      const auto again = sixgate::proxy::canonical_hostname(*canonical);
      check(again.ok() && *again == *canonical);
    } else {
      check(!canonical.error().message.empty());
    }
  }

  if (whole.state() != State::need_more) {
    const auto before = whole.state();
    whole.feed(stream);
    check(whole.state() == before);
  }
  return 0;
}
