#pragma once
// The difference between what the router holds and what it should hold, as an ordered list of writes. Pure.
//
// - Only objects whose comment carries our owner tag are changed or removed; an untagged object that matches
// a
//   desired one exactly is adopted (its comment set to the tag) only when `adopt` is on.
// - Values are compared semantically: prefixes as parsed values ("x/128" reads back as "x"), booleans
//   "true"/"yes", absent fields as their RouterOS default (passthrough=yes, disabled=false, distance=1, ...).
// - Drift in a tagged object → one `set` with only the differing fields; a field that must be absent is unset
//   with "!<field>". Duplicates of a tagged object (same role, same key) → the extras are removed.
// - Order: table before route before rule; new address-list entries before the rule changes, stale entries
//   removed after it, so there is never a moment where home traffic is marked.
// - In sync → empty plan.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/desired_state.hpp"
#include "agent/core/types.hpp"

namespace sixgate::agent {

// The router's tables as read by one GET each, keyed by menu (see namespace menu). A missing menu = empty.
struct RouterTables {
  std::map<std::string, std::vector<RosObject>, std::less<>> by_menu;
  const std::vector<RosObject>& in(std::string_view menu) const;
};

enum class Verb { add, set, remove, move };
std::string_view to_string(Verb verb);

struct Operation {
  std::string menu;
  Verb verb = Verb::add;
  std::string id;    // set/remove/move: the object's ".id"
  RosObject fields;  // add: all fields (may include "place-before"); set: only the changed ones ("!f" unsets)
  RosObject old_fields;     // set: the values before (for render_plan); remove: the object as read
  std::string destination;  // move: place before this ".id" ("" = to the end)
  std::string reason;  // why, for logs and the plan: "missing", "drifted: passthrough", "stale home prefix"
  std::string label;   // what, for humans: "mangle rule", "home prefix 2001:db8:1::/56"
};

struct Plan {
  std::vector<Operation> operations;  // in the order they must be applied
  std::vector<std::string> warnings;  // foreign conflicts, held policy, several prefixes in compat mode, ...
  bool empty() const { return operations.empty(); }
};

struct ReconcileOptions {
  bool adopt = false;
  // Some prefix source has not reported yet (daemon startup): stale home-prefix entries are kept, since that
  // source may still have them.
  bool keep_stale_home_prefixes = false;
};

Plan plan(const DesiredState& desired, const RouterTables& actual, const ReconcileOptions& options);

// Terraform-like text: "+ add", "~ set" with "old → new" per field, "- remove", "↕ move"; "No changes." if
// empty.
std::string render_plan(const Plan& plan);

// Semantic equality of one field's desired (write-form) value and the value read back from the router.
// `present` false: the router omitted the field (its default applies).
bool field_matches(std::string_view menu, std::string_view field, std::string_view desired, bool present,
                   std::string_view actual);

}  // namespace sixgate::agent
