#pragma once
// Turning RouterOS REST bodies into RosObjects, tolerating the router's quirks: raw control characters inside
// JSON strings, numbers/booleans where strings are documented, and singletons as object or one-element array.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/core/types.hpp"
#include "common/result.hpp"

namespace sixgate::agent::routeros {

// Inside JSON strings: raw bytes 0x00-0x1F and bytes that are not well-formed UTF-8 become \u00XX (the latter
// read as Latin-1); everything else is copied unchanged.
std::string escape_control_chars_in_strings(std::string_view body);

// Parses a response body (after escaping control characters). `what` names the request for the error message.
Result<nlohmann::json> parse_body(std::string_view body, std::string_view what);

// One JSON object as a RosObject: strings stay, numbers and booleans become their text ("true", "20"), null
// becomes "", nested arrays/objects their compact JSON text.
Result<RosObject> to_ros_object(const nlohmann::json& j, std::string_view what);
// A JSON array of objects.
Result<std::vector<RosObject>> to_ros_list(const nlohmann::json& j, std::string_view what);
// An object, or an array with exactly one object.
Result<RosObject> to_singleton(const nlohmann::json& j, std::string_view what);

// A RosObject as the JSON body of a PUT/PATCH (all values strings).
std::string to_request_body(const RosObject& fields);

}  // namespace sixgate::agent::routeros
