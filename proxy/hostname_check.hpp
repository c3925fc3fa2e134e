#pragma once
// Interim: until proxy/core/hostname.hpp lands, a lowercase + trailing-dot check for -default-hostname.
#include <algorithm>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sixgate::proxy {
inline Result<std::string> checked_hostname(std::string_view raw) {
  std::string s(raw);
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s.empty() || s.size() > 253) return make_error("'" + s + "' is not a host name");
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
      return make_error("'" + s + "' is not a host name");
  }
  return s;
}
}  // namespace sixgate::proxy
