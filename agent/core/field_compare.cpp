// Semantic comparison of RouterOS field values: what the agent writes vs. what the router reads back.
#include <charconv>

#include "agent/core/desired_state.hpp"
#include "agent/core/reconciler.hpp"
#include "common/ip.hpp"

namespace sixgate::agent {
namespace {

enum class Kind { text, boolean, number, prefix, flag, gateway, ignored };

struct FieldRule {
  std::string_view menu;  // empty: any menu
  std::string_view field;
  Kind kind;
  std::string_view default_value;  // what an absent field means (text/boolean/number)
};

// What the agent writes, as data. Fields not listed compare as text with default "".
constexpr FieldRule field_rules[] = {
    {"", "disabled", Kind::boolean, "false"},
    {"", "comment", Kind::text, ""},
    {menu::routing_table, "fib", Kind::flag, ""},
    {menu::route, "dst-address", Kind::prefix, ""},
    {menu::route, "gateway", Kind::gateway, ""},
    {menu::route, "routing-table", Kind::text, "main"},
    {menu::route, "distance", Kind::number, "1"},
    {menu::address_list, "address", Kind::prefix, ""},
    {menu::address_list, "timeout", Kind::ignored, ""},  // counts down; only set when adding
    {menu::mangle, "passthrough", Kind::boolean, "true"},
    {menu::mangle, "src-address", Kind::prefix, ""},
    {menu::mangle, "dst-address", Kind::prefix, ""},
};

const FieldRule* rule_for(std::string_view m, std::string_view field) {
  for (const FieldRule& r : field_rules)
    if ((r.menu.empty() || r.menu == m) && r.field == field) return &r;
  return nullptr;
}

std::optional<bool> as_bool(std::string_view v) {
  if (v == "true" || v == "yes") return true;
  if (v == "false" || v == "no") return false;
  return std::nullopt;
}

std::optional<long long> as_number(std::string_view v) {
  long long n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return n;
}

// "!2001:db8::/56" and "!2001:db8::/56" with any spelling; "x" equals "x/128".
bool prefix_equal(std::string_view a, std::string_view b) {
  bool neg_a = !a.empty() && a.front() == '!';
  bool neg_b = !b.empty() && b.front() == '!';
  if (neg_a != neg_b) return false;
  if (neg_a) {
    a.remove_prefix(1);
    b.remove_prefix(1);
  }
  auto pa = Ipv6Prefix::parse(a, true);
  auto pb = Ipv6Prefix::parse(b, true);
  if (pa && pb) return *pa == *pb;
  return a == b;
}

bool gateway_equal(std::string_view a, std::string_view b) {
  auto ga = ScopedIpv6Address::parse(a);
  auto gb = ScopedIpv6Address::parse(b);
  if (ga && gb) return ga->address == gb->address && ga->zone == gb->zone;
  return a == b;
}

}  // namespace

bool field_matches(std::string_view m, std::string_view field, std::string_view desired, bool present,
                   std::string_view actual) {
  const FieldRule* r = rule_for(m, field);
  Kind kind = r ? r->kind : Kind::text;
  std::string_view fallback = r ? r->default_value : std::string_view{};
  switch (kind) {
    case Kind::ignored:
      return true;
    case Kind::flag:
      return present;  // the agent only ever wants flags set ("fib": "")
    case Kind::boolean: {
      auto want = as_bool(desired);
      auto have = as_bool(present ? actual : fallback);
      return want && have && *want == *have;
    }
    case Kind::number: {
      auto want = as_number(desired);
      auto have = as_number(present ? actual : fallback);
      if (want && have) return *want == *have;
      return desired == (present ? actual : fallback);
    }
    case Kind::prefix:
      return present && prefix_equal(desired, actual);
    case Kind::gateway:
      return present && gateway_equal(desired, actual);
    case Kind::text:
      return desired == (present ? actual : fallback);
  }
  return false;
}

}  // namespace sixgate::agent
