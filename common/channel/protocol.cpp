#include "common/channel/protocol.hpp"

namespace sixgate::channel {

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::agent_report:
      return "agent_report";
    case MessageType::proxy_info:
      return "proxy_info";
  }
  return "unknown";
}

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::oversize:
      return "oversize";
    case DropReason::malformed:
      return "malformed";
    case DropReason::bad_version:
      return "bad_version";
    case DropReason::unexpected_type:
      return "unexpected_type";
    case DropReason::unknown_site:
      return "unknown_site";
    case DropReason::bad_mac:
      return "bad_mac";
    case DropReason::stale:
      return "stale";
    case DropReason::replay:
      return "replay";
    case DropReason::bad_payload:
      return "bad_payload";
  }
  return "unknown";
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace sixgate::channel
