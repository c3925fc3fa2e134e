#include "common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/log_batch_sink.hpp"

namespace sixgate::log {
namespace {

std::atomic<Format> g_format{Format::plain};
constexpr const char* kAccessLogger = "access";
constexpr std::size_t kAccessBatchBytes = 32 * 1024;
// Set by setup(), which runs before any other thread logs.
std::shared_ptr<spdlog::logger> g_access_owner;
std::atomic<spdlog::logger*> g_access{nullptr};
std::shared_ptr<LineBatchSink> g_sink;

std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool needs_quotes(std::string_view s) {
  if (s.empty()) return true;
  for (char c : s)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x21) return true;
  return false;
}

// A control character inside a value must not end the line or reach a terminal: it becomes \xNN.
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      append_hex_escape(out, u);
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_plain(std::string& out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (!needs_quotes(x)) {
            out += x;
          } else {
            append_quoted(out, x);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else {
          out += std::to_string(x);
        }
      },
      v);
}

void append_json(std::string& out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          out += json_string(x);
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else {
          out += nlohmann::json(x).dump();
        }
      },
      v);
}

}  // namespace

Result<spdlog::level::level_enum> parse_level(std::string_view text) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> names[] = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},  {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},         {"warning", spdlog::level::warn}, {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (auto& [name, level] : names)
    if (text == name) return level;
  return make_error("unknown log level '" + bounded(text, 32) +
                    "' (want trace, debug, info, warn, error, critical or off)");
}

Result<Format> parse_format(std::string_view text) {
  if (text == "plain" || text == "text") return Format::plain;
  if (text == "json") return Format::json;
  return make_error("unknown log format '" + bounded(text, 32) + "' (want plain or json)");
}

Status setup(const std::optional<std::string>& level_flag, const std::optional<std::string>& format_flag,
             bool batch_access_lines) {
  auto pick = [](const std::optional<std::string>& flag, const char* env, const char* fallback) {
    if (flag) return *flag;
    const char* e = std::getenv(env);
    return std::string(e && *e ? e : fallback);
  };
  auto level = parse_level(pick(level_flag, "SIXGATE_LOG_LEVEL", "info"));
  if (!level) return level.error();
  auto format = parse_format(pick(format_flag, "SIXGATE_LOG_FORMAT", "plain"));
  if (!format) return format.error();

  // One sink for both loggers, so an event line also writes the access lines gathered before it, in order.
  auto sink = std::make_shared<LineBatchSink>(STDERR_FILENO, batch_access_lines ? kAccessLogger : "",
                                              kAccessBatchBytes);
  auto make = [&](const char* name) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(*level);
    if (*format == Format::json)
      logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})",
                          spdlog::pattern_time_type::utc);
    else
      logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
    return logger;
  };
  g_sink = sink;
  g_access_owner = make(kAccessLogger);
  g_access = g_access_owner.get();
  spdlog::set_default_logger(make("sixgate"));
  g_format = *format;
  return ok_status();
}

Format current_format() {
  return g_format.load();
}

std::string format_event(Format format, std::string_view name, std::initializer_list<Field> fields) {
  std::string out;
  out.reserve(64 + fields.size() * 24);
  if (format == Format::json) {
    out += "\"event\":";
    out += json_string(name);
    for (const auto& f : fields) {
      out += ',';
      out += json_string(f.key);
      out += ':';
      append_json(out, f.value);
    }
  } else {
    out += name;
    for (const auto& f : fields) {
      out += ' ';
      out += f.key;
      out += '=';
      append_plain(out, f.value);
    }
  }
  return out;
}

namespace {
void emit(spdlog::logger* logger, spdlog::level::level_enum level, std::string_view name,
          std::initializer_list<Field> fields) {
  if (!logger->should_log(level)) return;
  logger->log(level, "{}", format_event(g_format.load(std::memory_order_relaxed), name, fields));
}

spdlog::logger* access_logger() {
  spdlog::logger* logger = g_access.load(std::memory_order_relaxed);
  return logger ? logger : spdlog::default_logger_raw();
}
}  // namespace

void event(spdlog::level::level_enum level, std::string_view name, std::initializer_list<Field> fields) {
  emit(spdlog::default_logger_raw(), level, name, fields);
}

void access(std::string_view name, std::initializer_list<Field> fields) {
  emit(access_logger(), spdlog::level::info, name, fields);
}

// After setup() both loggers share one sink: flushing the access logger writes everything gathered.
void flush() {
  access_logger()->flush();
}

std::uint64_t dropped_bytes() {
  return g_sink ? g_sink->dropped_bytes() : 0;
}

void append_hex_escape(std::string& out, unsigned char byte) {
  static constexpr char hex[] = "0123456789abcdef";
  out += "\\x";
  out += hex[byte >> 4];
  out += hex[byte & 15];
}

std::string bounded(std::string_view untrusted, std::size_t max_bytes) {
  std::string out;
  auto shown = untrusted.substr(0, max_bytes);
  out.reserve(shown.size() + 8);
  for (char c : shown) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      append_hex_escape(out, u);
    } else {
      out += c;
    }
  }
  if (untrusted.size() > max_bytes) out += "...";
  return out;
}

}  // namespace sixgate::log
