#pragma once
// RouterOS durations as the REST API prints them ("6d16h56m8s", "163w4d9h", "300ms", "00:00:10",
// "1d 00:00:00", "10" = seconds), to whole seconds (sub-second parts are dropped). Pure.
#include <chrono>
#include <optional>
#include <string_view>

namespace sixgate::agent {

std::optional<std::chrono::seconds> parse_ros_duration(std::string_view text);

}  // namespace sixgate::agent
