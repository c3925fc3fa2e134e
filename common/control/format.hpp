#pragma once
// Small text helpers for the `status` tables.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sixgate::control {

// 1500 -> "1.5s ago", 95000 -> "1m35s ago"; negative or null -> "never".
std::string format_ago(const nlohmann::json& ms);
// Seconds as "3540s" / "58m" / "2h05m" / "3d04h"; null -> "infinite".
std::string format_lifetime(const nlohmann::json& seconds);
// A byte count as "512 B" / "2.2 KiB" / "3.0 MiB" ... up to TiB; not a non-negative integer -> "?".
std::string format_bytes(const nlohmann::json& bytes);
// Unix milliseconds as "2026-11-25 11:30:00Z"; null -> "-".
std::string format_unix_ms(const nlohmann::json& ms);
// Text a peer chose, made safe for a terminal: C0/C1 control characters, DEL, bidirectional-override
// characters and bytes that are not valid UTF-8 become "\xNN" (per byte); everything else is kept.
std::string terminal_safe(std::string_view text);
// terminal_safe(text) cut to at most `max` bytes; a cut never splits a UTF-8 character or an escape and is
// marked with "...".
std::string shorten(std::string_view text, std::size_t max);
// Longest text of one field in a table or line, after escaping.
inline constexpr std::size_t kMaxFieldText = 256;
// A string field, shorten()ed to kMaxFieldText, or `fallback` when missing / not a string / empty.
std::string text_of(const nlohmann::json& j, const char* key, const std::string& fallback = "-");

// Left-aligned columns separated by two spaces. Every cell goes through shorten(cell, kMaxFieldText).
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row);
  std::string render(const std::string& indent = "") const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace sixgate::control
