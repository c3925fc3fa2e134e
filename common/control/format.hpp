#pragma once
// Small text helpers for the `status` tables.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sixgate::control {

// 1500 -> "1.5s ago", 95000 -> "1m35s ago"; negative or null -> "never".
std::string format_ago(const nlohmann::json& ms);
// Seconds as "3540s" / "58m" / "2h05m" / "3d04h"; null -> "infinite".
std::string format_lifetime(const nlohmann::json& seconds);
// Unix milliseconds as "2026-11-25 11:30:00Z"; null -> "-".
std::string format_unix_ms(const nlohmann::json& ms);
// At most `max` bytes of `text` for one table cell: control characters become spaces, a cut never splits a
// UTF-8 character and is marked with "...".
std::string shorten(const std::string& text, std::size_t max);
// A string field or `fallback` when missing / not a string.
std::string text_of(const nlohmann::json& j, const char* key, const std::string& fallback = "-");

// Left-aligned columns separated by two spaces.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render(const std::string& indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sixgate::control
