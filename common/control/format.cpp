#include "common/control/format.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iterator>

#include "common/log.hpp"
#include "common/utf8.hpp"

namespace sixgate::control {

std::string format_ago(const nlohmann::json& ms) {
  if (!ms.is_number_integer() || ms.get<std::int64_t>() < 0) return "never";
  const auto v = ms.get<std::int64_t>();
  char buf[64];
  if (v < 60000)
    std::snprintf(buf, sizeof buf, "%.1fs ago", static_cast<double>(v) / 1000.0);
  else if (v < 3600000)
    std::snprintf(buf, sizeof buf, "%lldm%02llds ago", static_cast<long long>(v / 60000),
                  static_cast<long long>(v / 1000 % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm ago", static_cast<long long>(v / 3600000),
                  static_cast<long long>(v / 60000 % 60));
  return buf;
}

std::string format_bytes(const nlohmann::json& bytes) {
  if (!bytes.is_number_integer() || (!bytes.is_number_unsigned() && bytes.get<std::int64_t>() < 0))
    return "?";
  constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  auto v = static_cast<double>(bytes.get<std::uint64_t>());
  std::size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f %s" : "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string format_lifetime(const nlohmann::json& seconds) {
  if (seconds.is_null()) return "infinite";
  if (!seconds.is_number_integer()) return "?";
  const auto s = seconds.get<std::int64_t>();
  char buf[64];
  if (s < 3600)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 86400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s / 3600 % 24));
  return buf;
}

std::string format_unix_ms(const nlohmann::json& ms) {
  if (!ms.is_number_integer()) return "-";
  std::time_t t = static_cast<std::time_t>(ms.get<std::int64_t>() / 1000);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return "-";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

namespace {

// C1 controls, and characters that reorder or break the displayed text (bidi embeddings, overrides and
// isolates, line/paragraph separators).
bool invisible_control(char32_t c) {
  return (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
         (c >= 0x2028 && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

void append_escaped(std::string& out, std::string_view bytes) {
  for (char c : bytes) log::append_hex_escape(out, static_cast<unsigned char>(c));
}

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto u = static_cast<unsigned char>(text[0]);
    if (u >= 0x20 && u < 0x7f) {
      out += text[0];
      text.remove_prefix(1);
      continue;
    }
    const Utf8Char c = u >= 0x80 ? decode_utf8(text) : Utf8Char{};
    if (c.length == 0) {
      append_escaped(out, text.substr(0, 1));
      text.remove_prefix(1);
      continue;
    }
    if (invisible_control(c.code_point))
      append_escaped(out, text.substr(0, c.length));
    else
      out.append(text.substr(0, c.length));
    text.remove_prefix(c.length);
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t max) {
  std::string out = terminal_safe(text);
  if (out.size() <= max) return out;
  std::size_t cut = max > 3 ? max - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // continuation byte
  // Never leave half an escape ("\\x1" of "\\x1b") at the end.
  const auto escape = out.rfind("\\x", cut > 0 ? cut - 1 : 0);
  if (escape != std::string::npos && escape + 4 > cut) cut = escape;
  return out.substr(0, cut) + "...";
}

std::string text_of(const nlohmann::json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  const auto& s = it->get_ref<const std::string&>();
  return s.empty() ? fallback : shorten(s, kMaxFieldText);
}

void Table::add(std::vector<std::string> row) {
  for (auto& cell : row) cell = shorten(cell, kMaxFieldText);
  rows_.push_back(std::move(row));
}

std::string Table::render(const std::string& indent) const {
  std::vector<std::size_t> width;
  for (const auto& row : rows_) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace sixgate::control
