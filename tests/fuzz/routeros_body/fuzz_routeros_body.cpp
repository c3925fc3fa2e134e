// Router replies are untrusted bytes: the body repair + parse path and the value parsers must never crash or
// trip a sanitizer, whatever the router sends.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/core/ros_values.hpp"
#include "agent/routeros/json_quirks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto parsed = sixgate::agent::routeros::parse_body(input, "fuzz");
  if (parsed.ok()) {
    (void)sixgate::agent::routeros::to_ros_list(*parsed, "fuzz");
    auto one = sixgate::agent::routeros::to_singleton(*parsed, "fuzz");
    if (one.ok()) (void)sixgate::agent::routeros::to_request_body(*one);
  }

  (void)sixgate::agent::routeros::escape_control_chars_in_strings(input);

  (void)sixgate::agent::routeros::parse_duration(input);
  (void)sixgate::agent::routeros::parse_bool(input);
  (void)sixgate::agent::routeros::parse_dhcp_client_prefix(input);
  return 0;
}
