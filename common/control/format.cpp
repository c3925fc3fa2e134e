#include "common/control/format.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

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

std::string shorten(const std::string& text, std::size_t max) {
  std::string out;
  for (char c : text) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (out.size() <= max) return out;
  std::size_t cut = max > 3 ? max - 3 : 0;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // continuation byte
  return out.substr(0, cut) + "...";
}

std::string text_of(const nlohmann::json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  const auto& s = it->get_ref<const std::string&>();
  return s.empty() ? fallback : s;
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
