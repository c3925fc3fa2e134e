#include "agent/core/ros_values.hpp"

#include <cstdint>

namespace sixgate::agent::routeros {
namespace {

constexpr std::size_t kMaxDigits = 9;  // keeps every sum far below the int64 range

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads 1..kMaxDigits digits at `pos`; advances `pos`. Empty optional when there are none or too many.
std::optional<std::int64_t> read_number(std::string_view s, std::size_t& pos) {
  std::size_t start = pos;
  std::int64_t v = 0;
  while (pos < s.size() && is_digit(s[pos])) {
    if (pos - start >= kMaxDigits) return std::nullopt;
    v = v * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos == start) return std::nullopt;
  return v;
}

Error duration_error(std::string_view text, std::string_view why) {
  return make_error("not a RouterOS duration: \"" + std::string(text.substr(0, 64)) + "\" (" +
                    std::string(why) + ")");
}

// "HH:MM:SS" or "HH:MM:SS.fff" starting at `pos`, to the end of the text.
Result<std::chrono::milliseconds> parse_clock(std::string_view text, std::size_t pos) {
  std::int64_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    auto n = read_number(text, pos);
    if (!n) return duration_error(text, "bad clock part");
    parts[i] = *n;
    if (i < 2) {
      if (pos >= text.size() || text[pos] != ':') return duration_error(text, "expected ':'");
      ++pos;
    }
  }
  if (parts[1] > 59 || parts[2] > 59) return duration_error(text, "minutes/seconds above 59");
  std::int64_t ms = ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::int64_t scale = 100, frac = 0;
    std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos]) && pos - start < kMaxDigits) {
      frac += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return duration_error(text, "empty fraction");
    ms += frac;
  }
  if (pos != text.size()) return duration_error(text, "trailing characters");
  return std::chrono::milliseconds(ms);
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return duration_error(text, "empty");
  if (text.size() > 64) return duration_error(text, "too long");
  std::int64_t total_ms = 0;
  std::size_t pos = 0;
  bool any_unit = false;
  while (pos < text.size()) {
    std::size_t number_start = pos;
    auto n = read_number(text, pos);
    if (!n) return duration_error(text, "expected a number");
    if (pos < text.size() && text[pos] == ':') {
      auto clock = parse_clock(text, number_start);
      if (!clock) return clock.error();
      return std::chrono::milliseconds(total_ms) + *clock;
    }
    if (pos == text.size()) {
      if (any_unit) return duration_error(text, "number without unit");
      return std::chrono::milliseconds(*n * 1000);  // plain seconds
    }
    std::int64_t unit_ms = 0;
    char u = text[pos];
    if (u == 'm' && pos + 1 < text.size() && text[pos + 1] == 's') {
      unit_ms = 1;
      pos += 2;
    } else if (u == 'u' && pos + 1 < text.size() && text[pos + 1] == 's') {
      unit_ms = 0;  // below our resolution
      pos += 2;
    } else {
      switch (u) {
        case 'w':
          unit_ms = 7LL * 24 * 3600 * 1000;
          break;
        case 'd':
          unit_ms = 24LL * 3600 * 1000;
          break;
        case 'h':
          unit_ms = 3600LL * 1000;
          break;
        case 'm':
          unit_ms = 60LL * 1000;
          break;
        case 's':
          unit_ms = 1000;
          break;
        default:
          return duration_error(text, "unknown unit");
      }
      ++pos;
    }
    total_ms += *n * unit_ms;
    any_unit = true;
    // "1d 00:00:00": a space may separate the unit part from a clock part.
    if (pos < text.size() && text[pos] == ' ') {
      ++pos;
      if (pos >= text.size()) return duration_error(text, "trailing space");
      auto clock = parse_clock(text, pos);
      if (!clock) return clock.error();
      return std::chrono::milliseconds(total_ms) + *clock;
    }
  }
  return std::chrono::milliseconds(total_ms);
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms <= 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::int64_t s = ms / 1000;
  std::string out;
  const std::pair<std::int64_t, char> units[] = {
      {7 * 86400, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, name] : units) {
    if (s >= size) {
      out += std::to_string(s / size);
      out += name;
      s %= size;
    }
  }
  return out;
}

Result<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "yes") return true;
  if (text == "false" || text == "no") return false;
  return make_error("not a RouterOS boolean: \"" + std::string(text.substr(0, 32)) +
                    "\" (expected true/false/yes/no)");
}

Result<DhcpClientPrefix> parse_dhcp_client_prefix(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return make_error("cannot read dhcp-client prefix \"" + std::string(text.substr(0, 96)) +
                      "\": " + std::string(why));
  };
  std::size_t comma = text.find(',');
  std::string_view prefix_text = text.substr(0, comma);
  while (!prefix_text.empty() && prefix_text.back() == ' ') prefix_text.remove_suffix(1);
  if (prefix_text.empty()) return fail("no prefix");
  auto prefix = Ipv6Prefix::parse(prefix_text);
  if (!prefix) return fail(prefix.error().message);
  DhcpClientPrefix out{*prefix, std::nullopt};
  if (comma == std::string_view::npos) return out;
  std::string_view rest = text.substr(comma + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string_view lifetime = rest.substr(0, rest.find(','));  // a further ", <prefix>, ..." is ignored
  while (!lifetime.empty() && lifetime.back() == ' ') lifetime.remove_suffix(1);
  if (lifetime.empty()) return fail("empty lifetime after the comma");
  auto d = parse_duration(lifetime);
  if (!d) return fail(d.error().message);
  out.remaining_valid = std::chrono::duration_cast<std::chrono::seconds>(*d);
  return out;
}

}  // namespace sixgate::agent::routeros
