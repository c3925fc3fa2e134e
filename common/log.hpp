#pragma once
// Structured logging on spdlog: one line per event, "plain" (key=value) or "json" (one object per line).
// Client-supplied text must go through `bounded()` before it reaches a field.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/result.hpp"

namespace sixgate::log {

enum class Format { plain, json };

using Value = std::variant<std::string_view, std::int64_t, std::uint64_t, double, bool>;
struct Field {
  std::string_view key;
  Value value;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  template <class I>
  requires std::is_integral_v<I> Field(std::string_view k, I v) {
    key = k;
    if constexpr (std::is_signed_v<I>)
      value = static_cast<std::int64_t>(v);
    else
      value = static_cast<std::uint64_t>(v);
  }
};

Result<spdlog::level::level_enum> parse_level(std::string_view text);
Result<Format> parse_format(std::string_view text);

// Level: the flag if given, else $SIXGATE_LOG_LEVEL, else "info". Format likewise with $SIXGATE_LOG_FORMAT.
// Logs go to stderr. Returns an error naming the bad value; logging is left at its defaults then.
// `batch_access_lines`: access() lines are gathered (up to 32 KiB) and written with the next other line or
// flush() instead of one write each; the caller then calls flush() on a timer and before it exits.
Status setup(const std::optional<std::string>& level_flag, const std::optional<std::string>& format_flag,
             bool batch_access_lines = false);

Format current_format();

// The text of one event, without timestamp and level (those come from the spdlog pattern).
std::string format_event(Format format, std::string_view event, std::initializer_list<Field> fields);

void event(spdlog::level::level_enum level, std::string_view name, std::initializer_list<Field> fields = {});

// An access-log line (level info): batched when setup() was asked to; through the default logger before
// setup() (as in unit tests that capture it).
void access(std::string_view name, std::initializer_list<Field> fields);

// Writes what the loggers hold.
void flush();

// Bytes of log lines that stderr refused (closed pipe, full disk) since setup(); 0 before it.
std::uint64_t dropped_bytes();

// Escapes control, non-ASCII, quote and backslash bytes as \xNN and cuts to at most `max_bytes` input bytes,
// marking a cut with "...". For any text a client or remote peer chose.
std::string bounded(std::string_view untrusted, std::size_t max_bytes = 256);

// Appends `byte` as \xNN (lower-case hex): how a byte that must not be shown as it is gets written.
void append_hex_escape(std::string& out, unsigned char byte);

}  // namespace sixgate::log
