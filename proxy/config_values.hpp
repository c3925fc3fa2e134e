#pragma once
// Checks of single configuration values shared by the flag and file paths (the public parsers, such as
// parse_listen and parse_duration, are declared in config.hpp). Errors name `what` and quote the bounded
// text.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/result.hpp"

namespace sixgate::proxy {

template <class Int>
Result<Int> parse_uint(std::string_view text, std::string_view what, Int min, Int max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() ||
      v < static_cast<std::uint64_t>(min) || v > static_cast<std::uint64_t>(max))
    return make_error(std::string(what) + ": '" + log::bounded(text, 40) + "' is not a number from " +
                      std::to_string(min) + " to " + std::to_string(max));
  return static_cast<Int>(v);
}

// "true", "1" or "" (a flag given without a value) / "false", "0".
Result<bool> parse_bool(std::string_view text, std::string_view what);

}  // namespace sixgate::proxy
