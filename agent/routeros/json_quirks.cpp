#include "agent/routeros/json_quirks.hpp"

#include "common/log.hpp"
#include "common/utf8.hpp"

namespace sixgate::agent::routeros {

namespace {

void append_u00(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u00";
  out += kHex[c >> 4];
  out += kHex[c & 0xF];
}

}  // namespace

std::string escape_control_chars_in_strings(std::string_view body) {
  enum class State { outside, in_string, after_backslash };
  State state = State::outside;
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    char ch = body[i];
    auto c = static_cast<unsigned char>(ch);
    switch (state) {
      case State::outside:
        if (c == '"') state = State::in_string;
        out += ch;
        break;
      case State::after_backslash:
        state = State::in_string;
        if (c >= 0x20 && c < 0x80) {
          out += ch;
          break;
        }
        // "\" followed by a raw byte is no valid escape: make the backslash literal, then treat the byte
        // below.
        out += '\\';
        [[fallthrough]];
      case State::in_string:
        if (c == '"') {
          state = State::outside;
          out += ch;
        } else if (c == '\\') {
          state = State::after_backslash;
          out += ch;
        } else if (c < 0x20) {
          append_u00(out, c);
        } else if (c < 0x80) {
          out += ch;
        } else if (std::size_t len = decode_utf8(body.substr(i)).length; len > 0) {
          out.append(body.substr(i, len));
          i += len - 1;
        } else {
          append_u00(out, c);  // not UTF-8 (e.g. Latin-1 in a comment): read the byte as Latin-1
        }
        break;
    }
  }
  return out;
}

Result<nlohmann::json> parse_body(std::string_view body, std::string_view what) {
  std::string cleaned = escape_control_chars_in_strings(body);
  auto j = nlohmann::json::parse(cleaned, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return make_error(std::string(what) + ": the router's reply is not JSON: " + log::bounded(body, 160));
  return j;
}

Result<RosObject> to_ros_object(const nlohmann::json& j, std::string_view what) {
  if (!j.is_object())
    return make_error(std::string(what) + ": expected a JSON object, got " + std::string(j.type_name()));
  RosObject out;
  for (const auto& [key, value] : j.items()) {
    if (value.is_string())
      out[key] = value.get<std::string>();
    else if (value.is_boolean())
      out[key] = value.get<bool>() ? "true" : "false";
    else if (value.is_null())
      out[key] = "";
    else
      out[key] = value.dump();  // numbers print as their text; nested values as compact JSON
  }
  return out;
}

Result<std::vector<RosObject>> to_ros_list(const nlohmann::json& j, std::string_view what) {
  if (!j.is_array())
    return make_error(std::string(what) + ": expected a JSON array, got " + std::string(j.type_name()));
  std::vector<RosObject> out;
  out.reserve(j.size());
  for (const auto& item : j) {
    auto o = to_ros_object(item, what);
    if (!o) return o.error();
    out.push_back(std::move(o).value());
  }
  return out;
}

Result<RosObject> to_singleton(const nlohmann::json& j, std::string_view what) {
  if (j.is_object()) return to_ros_object(j, what);
  if (j.is_array() && j.size() == 1) return to_ros_object(j[0], what);
  if (j.is_array())
    return make_error(std::string(what) + ": expected one object, got an array of " +
                      std::to_string(j.size()));
  return make_error(std::string(what) + ": expected a JSON object, got " + std::string(j.type_name()));
}

std::string to_request_body(const RosObject& fields) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : fields) j[k] = v;
  // RouterOS text can hold any byte; replace invalid UTF-8 rather than throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sixgate::agent::routeros
