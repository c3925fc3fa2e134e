// Input: one byte choosing how the rest is cut into feed() calls, then the bytes a client sent.
// Invariants: the outcome does not depend on the cuts; a found host is non-empty with no space or control
// bytes and passes or fails canonicalisation; sniff() never changes its mind as more bytes arrive.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proxy/core/hostname.hpp"
#include "proxy/core/http_host.hpp"
#include "proxy/core/sniff.hpp"

using sixgate::proxy::HttpHostParser;
using sixgate::proxy::Protocol;
using State = HttpHostParser::State;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void feed_in_pieces(HttpHostParser& p, std::span<const std::uint8_t> bytes, std::uint8_t pattern) {
  std::uint32_t x = pattern * 2654435761u + 1;
  while (!bytes.empty()) {
    x = x * 1664525u + 1013904223u;
    const std::size_t n = (x >> 28) < 12 ? 1 + ((x >> 16) & 7) : 1 + ((x >> 8) & 1023);
    const auto piece = bytes.first(n < bytes.size() ? n : bytes.size());
    p.feed(piece);
    bytes = bytes.subspan(piece.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::uint8_t> stream(data + 1, size - 1);
  const std::size_t max_head = 64 + data[0] * 64;  // small limits too, so "too_large" is reached

  HttpHostParser whole(max_head);
  whole.feed(stream);
  HttpHostParser pieces(max_head);
  feed_in_pieces(pieces, stream, data[0]);

  check(whole.state() == pieces.state());
  check(whole.failure_reason() == pieces.failure_reason());
  check(whole.host() == pieces.host());
  check(whole.consumed() == pieces.consumed());
  check(whole.consumed() <= stream.size() && whole.consumed() <= max_head + 1);

  if (whole.state() == State::failed) check(!whole.failure_reason().empty());
  if (whole.state() == State::done) {
    check(!whole.host().empty());
    for (char c : whole.host()) check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
    const auto canonical = sixgate::proxy::canonical_hostname(whole.host());
    if (canonical.ok()) check(canonical->size() <= 253);
  }

  Protocol decided = Protocol::need_more;
  const std::size_t sniff_limit = stream.size() < 16 ? stream.size() : 16;
  for (std::size_t k = 0; k <= sniff_limit; ++k) {
    const Protocol p = sixgate::proxy::sniff(stream.first(k));
    if (decided != Protocol::need_more) check(p == decided);
    decided = p;
  }
  return 0;
}
