#include "proxy/core/hostname.hpp"

#include "common/log.hpp"

namespace sixgate::proxy {
namespace {

constexpr std::size_t kMaxName = 253;
constexpr std::size_t kMaxLabel = 63;

Error refuse(std::string_view raw, std::string_view why) {
  return make_error("host name \"" + log::bounded(raw, 80) + "\" refused: " + std::string(why));
}

bool label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

// A last label that inet_aton() would take as a number ("1", "0x7f", "0x") makes the name an IPv4 literal
// in some spelling; no real top-level domain looks like that.
bool numeric_label(std::string_view label) {
  if (label.size() >= 2 && label[0] == '0' && label[1] == 'x') {
    for (char c : label.substr(2)) {
      if (!is_hex(c)) return false;
    }
    return true;
  }
  for (char c : label) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace

Result<std::string> canonical_hostname(std::string_view raw) {
  if (raw.empty()) return refuse(raw, "empty");
  std::string name;
  name.reserve(raw.size());
  for (char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    if (b == 0) return refuse(raw, "contains a NUL byte");
    if (b < 0x20 || b == 0x7f) return refuse(raw, "contains a control byte");
    if (b >= 0x80) return refuse(raw, "contains a non-ASCII byte (use the A-label form)");
    if (c == '/') return refuse(raw, "contains '/'");
    if (c == ':' || c == '[' || c == ']') return refuse(raw, "is an IPv6 literal");
    name.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (name.back() == '.') name.pop_back();
  if (name.empty()) return refuse(raw, "has no labels");
  if (name.size() > kMaxName) return refuse(raw, "is longer than 253 characters");
  std::string_view rest = name;
  std::string_view label;
  while (true) {
    const auto dot = rest.find('.');
    label = rest.substr(0, dot);
    if (label.empty()) return refuse(raw, "has an empty label");
    if (label.size() > kMaxLabel) return refuse(raw, "has a label longer than 63 characters");
    for (char c : label) {
      if (!label_char(c)) return refuse(raw, "has a character outside [a-z0-9-_]");
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (numeric_label(label)) return refuse(raw, "is an IPv4 literal (numeric last label)");
  return name;
}

}  // namespace sixgate::proxy
