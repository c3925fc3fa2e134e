#pragma once
// The --config file (TOML): the flags' keys, as text for build_config() to check like flag values, plus the
// [channel] table, which only the file can carry. Unknown keys, wrong types and arrays for single-valued keys
// are errors naming the file, the line (for syntax errors) and the key.
#include <optional>
#include <string>

#include "common/result.hpp"
#include "proxy/config.hpp"
#include "proxy/config_keys.hpp"

namespace sixgate::proxy {

struct ConfigFileValues {
  RawConfigValues raw;
  std::optional<ChannelConfig> channel;
};

// `source` names the file in errors.
Result<ConfigFileValues> parse_config_file(const std::string& text, const std::string& source);

}  // namespace sixgate::proxy
