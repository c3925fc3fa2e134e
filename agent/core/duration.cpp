#include "agent/core/duration.hpp"

#include <cctype>
#include <cstdint>

namespace sixgate::agent {
namespace {

constexpr std::int64_t max_seconds = std::int64_t(1) << 40;  // ~35,000 years: anything above is nonsense

bool digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

// Reads digits at `pos`; nullopt when there are none or too many.
std::optional<std::int64_t> number(std::string_view s, std::size_t& pos) {
  std::size_t start = pos;
  std::int64_t n = 0;
  while (pos < s.size() && digit(s[pos])) {
    if (pos - start >= 12) return std::nullopt;
    n = n * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return n;
}

// "hh:mm:ss" with an optional ".fraction", starting at `pos`.
std::optional<std::int64_t> clock_part(std::string_view s, std::size_t pos) {
  std::int64_t total = 0;
  for (int field = 0; field < 3; ++field) {
    if (field > 0) {
      if (pos >= s.size() || s[pos] != ':') return std::nullopt;
      ++pos;
    }
    auto n = number(s, pos);
    if (!n || (field > 0 && *n >= 60)) return std::nullopt;
    total = total * 60 + *n;
  }
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    if (!number(s, pos)) return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return total;
}

}  // namespace

std::optional<std::chrono::seconds> parse_ros_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t pos = 0;
  bool any = false;
  while (pos < s.size()) {
    std::size_t start = pos;
    auto n = number(s, pos);
    if (!n) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      auto clock = clock_part(s, start);
      if (!clock) return std::nullopt;
      total += *clock;
      any = true;
      break;
    }
    if (pos == s.size()) {  // bare number: seconds (only as the whole text)
      if (any) return std::nullopt;
      total = *n;
      any = true;
      break;
    }
    std::int64_t unit = 0;
    if (s.substr(pos, 2) == "ms") {
      unit = 0;
      pos += 2;
    } else if (s.substr(pos, 2) == "us") {
      unit = 0;
      pos += 2;
    } else {
      switch (s[pos]) {
        case 'w':
          unit = 7 * 86400;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'm':
          unit = 60;
          break;
        case 's':
          unit = 1;
          break;
        default:
          return std::nullopt;
      }
      ++pos;
    }
    total += *n * unit;
    if (total > max_seconds) return std::nullopt;
    any = true;
    if (pos < s.size() && s[pos] == ' ') ++pos;  // "1d 00:00:10"
  }
  if (!any || total > max_seconds) return std::nullopt;
  return std::chrono::seconds(total);
}

}  // namespace sixgate::agent
