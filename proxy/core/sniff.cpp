#include "proxy/core/sniff.hpp"

#include <algorithm>
#include <string_view>

namespace sixgate::proxy {
namespace {

constexpr std::string_view kMethods[] = {"GET ",     "HEAD ",  "POST ",    "PUT ",  "DELETE ",
                                         "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};

// How `bytes` relate to `pattern`: it starts with the whole pattern, is a proper prefix of it, or neither.
enum class Match { full, prefix, no };

template <class Pattern>
Match match(std::span<const std::uint8_t> bytes, const Pattern& pattern) {
  const std::size_t n = std::min(bytes.size(), std::size(pattern));
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes[i] != static_cast<std::uint8_t>(pattern[i])) return Match::no;
  }
  return n == std::size(pattern) ? Match::full : Match::prefix;
}

}  // namespace

Protocol sniff(std::span<const std::uint8_t> first_bytes) {
  if (first_bytes.empty()) return Protocol::need_more;
  if (first_bytes[0] == 0x16) return Protocol::tls;
  switch (match(first_bytes, kPostgresSslRequest)) {
    case Match::full:
      return Protocol::postgres_ssl_request;
    case Match::prefix:
      return Protocol::need_more;
    case Match::no:
      break;
  }
  bool ambiguous = false;
  for (std::string_view method : kMethods) {
    switch (match(first_bytes, method)) {
      case Match::full:
        return Protocol::http;
      case Match::prefix:
        ambiguous = true;
        break;
      case Match::no:
        break;
    }
  }
  return ambiguous ? Protocol::need_more : Protocol::unknown;
}

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::need_more:
      return "need_more";
    case Protocol::tls:
      return "tls";
    case Protocol::postgres_ssl_request:
      return "postgres_ssl_request";
    case Protocol::http:
      return "http";
    case Protocol::unknown:
      return "unknown";
  }
  return "?";
}

}  // namespace sixgate::proxy
