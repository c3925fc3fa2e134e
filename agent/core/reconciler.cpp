#include "agent/core/reconciler.hpp"

#include "agent/core/ros_values.hpp"

#include <algorithm>
#include <optional>
#include <sstream>

namespace sixgate::agent {
namespace {

// Matchers someone may add to our rule by hand; each one narrows or changes what it marks, so a field of this
// list that the desired rule does not have is unset.
constexpr std::string_view mangle_matchers[] = {
    "dst-address",
    "dst-address-list",
    "src-address-list",
    "in-interface",
    "out-interface",
    "in-interface-list",
    "out-interface-list",
    "protocol",
    "src-port",
    "dst-port",
    "port",
    "routing-mark",
    "connection-mark",
    "packet-mark",
    "connection-state",
    "connection-type",
    "dst-address-type",
    "src-address-type",
    "ipv6-header",
    "content",
};

// Fields written only when adding.
bool add_only(std::string_view field) {
  return field == "timeout" || field == "place-before";
}

std::string get(const RosObject& o, std::string_view key) {
  auto it = o.find(std::string(key));
  return it == o.end() ? std::string() : it->second;
}

bool is_dynamic(const RosObject& o) {
  std::string d = get(o, "dynamic");
  return d == "true" || d == "yes";
}

std::string id_of(const RosObject& o) {
  return get(o, ".id");
}

// Fields (except comment and add-only ones) that differ, with the values to write.
struct Drift {
  RosObject write, old;
  std::vector<std::string> names;
};

Drift drift(const DesiredObject& want, const RosObject& have) {
  Drift d;
  for (const auto& [key, value] : want.fields) {
    if (add_only(key) || key == "comment") continue;
    auto it = have.find(key);
    bool present = it != have.end();
    if (!field_matches(want.menu, key, value, present, present ? it->second : std::string_view{})) {
      d.write[key] = value;
      d.old[key] = present ? it->second : "(unset)";
      d.names.push_back(key);
    }
  }
  // An entry with a timeout runs out on the router: renew it once half of it has passed.
  if (auto t = want.fields.find("timeout"); t != want.fields.end()) {
    auto it = have.find("timeout");
    auto full = routeros::parse_duration(t->second);
    auto left = it == have.end() ? Result<std::chrono::milliseconds>(make_error("absent"))
                                 : routeros::parse_duration(it->second);
    if (full.ok() && left.ok() && *left * 2 < *full) {
      d.write["timeout"] = t->second;
      d.old["timeout"] = it->second;
      d.names.push_back("timeout (renewed)");
    }
  }
  if (want.menu == menu::mangle) {
    for (std::string_view f : mangle_matchers) {
      std::string key(f);
      if (want.fields.count(key) != 0) continue;
      auto it = have.find(key);
      if (it == have.end() || it->second.empty()) continue;
      d.write["!" + key] = "";
      d.old[key] = it->second;
      d.names.push_back(key);
    }
  }
  return d;
}

bool exact_match(const DesiredObject& want, const RosObject& have) {
  return drift(want, have).names.empty();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool tagged_by_other_sixgate(const RosObject& o, std::string_view our_prefix) {
  std::string c = get(o, "comment");
  return c.rfind("sixgate:", 0) == 0 && c.rfind(std::string(our_prefix), 0) != 0;
}

// Collects the operations in phases, so the final order is safe whatever order they were found in.
struct Builder {
  std::vector<Operation> table, route, list_add, rule, list_remove, cleanup;
  std::vector<std::string> warnings;
};

Operation op_add(const DesiredObject& want, std::string reason) {
  Operation o;
  o.menu = want.menu;
  o.verb = Verb::add;
  o.fields = want.fields;
  o.reason = std::move(reason);
  o.label = want.label;
  return o;
}

Operation op_set(const DesiredObject& want, const RosObject& have, RosObject fields, RosObject old,
                 std::string reason) {
  Operation o;
  o.menu = want.menu;
  o.verb = Verb::set;
  o.id = id_of(have);
  o.fields = std::move(fields);
  o.old_fields = std::move(old);
  o.reason = std::move(reason);
  o.label = want.label;
  return o;
}

Operation op_remove(std::string_view m, const RosObject& have, std::string label, std::string reason) {
  Operation o;
  o.menu = std::string(m);
  o.verb = Verb::remove;
  o.id = id_of(have);
  o.old_fields = have;
  o.reason = std::move(reason);
  o.label = std::move(label);
  return o;
}

// A tagged object that exists: bring its fields back to the desired values.
void converge(const DesiredObject& want, const RosObject& have, std::vector<Operation>& out) {
  Drift d = drift(want, have);
  if (!d.names.empty())
    out.push_back(op_set(want, have, std::move(d.write), std::move(d.old), "drifted: " + join(d.names)));
}

// Adopting an untagged exact match: only its comment changes.
void adopt(const DesiredObject& want, const RosObject& have, std::vector<Operation>& out) {
  out.push_back(op_set(want, have, {{"comment", get(want.fields, "comment")}},
                       {{"comment", get(have, "comment")}},
                       "adopted (policy.adopt = true): untagged object matches exactly"));
}

// The rule's required place among the non-dynamic rules of its chain. Returns where to put it when adding
// (place-before id, "" = append) and, for an existing rule, a move if it is out of place.
struct Placement {
  std::string place_before;         // for add
  std::optional<std::string> move;  // for an existing rule: destination ("" = end)
  std::string why;
};

Placement place_rule(const DesiredState& d, const std::vector<RosObject>& mangle, const std::string& chain,
                     const std::string& our_id, std::vector<std::string>& warnings) {
  std::vector<const RosObject*> same_chain;
  for (const RosObject& r : mangle)
    if (!is_dynamic(r) && get(r, "chain") == chain) same_chain.push_back(&r);
  auto index_of = [&](const std::string& id) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < same_chain.size(); ++i)
      if (id_of(*same_chain[i]) == id) return i;
    return std::nullopt;
  };
  const auto found = our_id.empty() ? std::nullopt : index_of(our_id);
  const bool placed = found.has_value();
  const std::size_t ours = found.value_or(0);
  Placement p;
  switch (d.position.kind) {
    case RulePosition::Kind::top: {
      const RosObject* first = nullptr;
      for (const RosObject* r : same_chain)
        if (id_of(*r) != our_id) {
          first = r;
          break;
        }
      if (!first) return p;
      if (!placed) {
        p.place_before = id_of(*first);
      } else if (ours != 0) {
        p.move = id_of(*same_chain.front());
        p.why = "position: must be the first rule of chain " + chain;
      }
      return p;
    }
    case RulePosition::Kind::bottom:
      if (placed && ours + 1 != same_chain.size()) {
        p.move = "";
        p.why = "position: must be the last rule of chain " + chain;
      }
      return p;
    case RulePosition::Kind::before: {
      const RosObject* target = nullptr;
      for (const RosObject* r : same_chain)
        if (get(*r, "comment") == d.position.comment && id_of(*r) != our_id) {
          target = r;
          break;
        }
      if (!target) {
        warnings.push_back("position before:" + d.position.comment + ": no rule in chain " + chain +
                           " has that comment; the rule stays where it is (or is appended)");
        return p;
      }
      if (!placed) {
        p.place_before = id_of(*target);
      } else if (ours > index_of(id_of(*target)).value_or(0)) {
        p.move = id_of(*target);
        p.why = "position: must come before the rule \"" + d.position.comment + "\"";
      }
      return p;
    }
  }
  return p;
}

// table, route, rule: at most one object per role.
void plan_single(const DesiredState& d, const DesiredObject& want, const RouterTables& actual,
                 const ReconcileOptions& options, std::vector<Operation>& out, Builder& b) {
  const std::vector<RosObject>& rows = actual.in(want.menu);
  const std::string tag = get(want.fields, "comment");
  std::vector<const RosObject*> tagged;
  for (const RosObject& r : rows)
    if (get(r, "comment") == tag) tagged.push_back(&r);

  std::string our_id;
  if (!tagged.empty()) {
    converge(want, *tagged.front(), out);
    our_id = id_of(*tagged.front());
    for (std::size_t i = 1; i < tagged.size(); ++i)
      b.cleanup.push_back(op_remove(want.menu, *tagged[i], want.label, "duplicate of " + our_id));
  } else {
    // An untagged object that matches (tables: the same name, which must be unique).
    const RosObject* match = nullptr;
    const RosObject* same_name = nullptr;
    for (const RosObject& r : rows) {
      // Whoever owns a table with our name, a second one cannot be added.
      if (want.role == Role::table && get(r, "name") == get(want.fields, "name")) same_name = &r;
      if (tagged_by_other_sixgate(r, d.tag_prefix)) continue;  // never adopted
      if (!is_dynamic(r) && exact_match(want, r) && !match) match = &r;
    }
    if (match && options.adopt) {
      adopt(want, *match, out);
      our_id = id_of(*match);
    } else if (want.role == Role::table && same_name) {
      b.warnings.push_back(
          want.label + " exists without our tag (" + id_of(*same_name) + "); used as it is" +
          (match ? ": set policy.adopt = true to manage it" : ", but it differs from the config"));
      return;
    } else {
      if (match)
        b.warnings.push_back(want.label + ": an untagged object (" + id_of(*match) +
                             ") matches; adding our own (set policy.adopt = true to take it over instead)");
      Operation add = op_add(want, "missing");
      if (want.role == Role::rule) {
        Placement p = place_rule(d, rows, get(want.fields, "chain"), "", b.warnings);
        if (!p.place_before.empty()) add.fields["place-before"] = p.place_before;
      }
      out.push_back(std::move(add));
      return;
    }
  }
  if (want.role == Role::rule && !our_id.empty()) {
    Placement p = place_rule(d, rows, get(want.fields, "chain"), our_id, b.warnings);
    if (p.move) {
      Operation mv;
      mv.menu = want.menu;
      mv.verb = Verb::move;
      mv.id = our_id;
      mv.destination = *p.move;
      mv.reason = p.why;
      mv.label = want.label;
      out.push_back(std::move(mv));
    }
  }
}

void plan_home_prefixes(const DesiredState& d, const RouterTables& actual, const ReconcileOptions& options,
                        Builder& b) {
  const std::string tag = d.tag_prefix + std::string(to_string(Role::home_prefix));
  const std::vector<RosObject>& rows = actual.in(menu::address_list);
  std::vector<const DesiredObject*> wanted;
  for (const DesiredObject& o : d.objects)
    if (o.role == Role::home_prefix) wanted.push_back(&o);

  std::vector<bool> covered(wanted.size(), false);
  for (const RosObject& r : rows) {
    if (get(r, "comment") != tag) continue;
    std::optional<std::size_t> slot;
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (get(r, "list") == get(wanted[i]->fields, "list") &&
          field_matches(menu::address_list, "address", get(wanted[i]->fields, "address"),
                        r.count("address") != 0, get(r, "address"))) {
        slot = i;
        break;
      }
    }
    std::string label = "home prefix " + get(r, "address") + " in " + get(r, "list");
    if (!slot && options.keep_stale_home_prefixes) {
      b.warnings.push_back(label + ": kept until every prefix source has reported");
    } else if (!slot) {
      b.list_remove.push_back(op_remove(menu::address_list, r, label, "stale: no longer a home prefix"));
    } else if (covered[*slot]) {
      b.cleanup.push_back(op_remove(menu::address_list, r, label, "duplicate entry"));
    } else {
      covered[*slot] = true;
      converge(*wanted[*slot], r, b.list_add);
    }
  }

  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (covered[i]) continue;
    const DesiredObject& want = *wanted[i];
    const RosObject* same = nullptr;
    for (const RosObject& r : rows) {
      // Any entry with this list and address (untagged, dynamic, another agent's) blocks a second one.
      if (get(r, "list") == get(want.fields, "list") &&
          field_matches(menu::address_list, "address", get(want.fields, "address"), r.count("address") != 0,
                        get(r, "address"))) {
        same = &r;
        break;
      }
    }
    if (!same) {
      b.list_add.push_back(op_add(want, "new home prefix"));
    } else if (options.adopt && !is_dynamic(*same) && !tagged_by_other_sixgate(*same, d.tag_prefix) &&
               exact_match(want, *same)) {
      adopt(want, *same, b.list_add);
    } else {
      // RouterOS refuses a second entry with the same list and address; the existing one already excludes it.
      b.warnings.push_back(
          want.label + ": an entry without our tag (" + id_of(*same) + ", comment \"" +
          get(*same, "comment") + "\") already holds it; left " +
          (is_dynamic(*same) ? "as it is (dynamic)" : "as it is (policy.adopt = true to manage it)"));
    }
  }
}

// Objects carrying our tag prefix with a role this agent no longer has (e.g. an old tag spelling).
void plan_unknown_roles(const DesiredState& d, const RouterTables& actual, Builder& b) {
  const std::string_view known[] = {to_string(Role::table), to_string(Role::route), to_string(Role::rule),
                                    to_string(Role::home_prefix)};
  for (const auto& [m, rows] : actual.by_menu) {
    for (const RosObject& r : rows) {
      std::string c = get(r, "comment");
      if (c.rfind(d.tag_prefix, 0) != 0) continue;
      std::string_view role = std::string_view(c).substr(d.tag_prefix.size());
      if (std::find(std::begin(known), std::end(known), role) != std::end(known)) continue;
      b.cleanup.push_back(op_remove(m, r, "object tagged " + c, "tagged by this agent, unknown role"));
    }
  }
}

}  // namespace

const std::vector<RosObject>& RouterTables::in(std::string_view m) const {
  static const std::vector<RosObject> none;
  auto it = by_menu.find(m);
  return it == by_menu.end() ? none : it->second;
}

std::string_view to_string(Verb verb) {
  switch (verb) {
    case Verb::add:
      return "add";
    case Verb::set:
      return "set";
    case Verb::remove:
      return "remove";
    case Verb::move:
      return "move";
  }
  return "?";
}

Plan plan(const DesiredState& desired, const RouterTables& actual, const ReconcileOptions& options) {
  Builder b;
  b.warnings = desired.warnings;
  for (const DesiredObject& want : desired.objects) {
    if (want.role == Role::table) plan_single(desired, want, actual, options, b.table, b);
    if (want.role == Role::route) plan_single(desired, want, actual, options, b.route, b);
    if (want.role == Role::rule) plan_single(desired, want, actual, options, b.rule, b);
  }
  if (!desired.hold_policy) plan_home_prefixes(desired, actual, options, b);
  plan_unknown_roles(desired, actual, b);

  Plan p;
  for (auto* phase : {&b.table, &b.route, &b.list_add, &b.rule, &b.list_remove, &b.cleanup})
    for (Operation& o : *phase) p.operations.push_back(std::move(o));
  p.warnings = std::move(b.warnings);
  return p;
}

std::string render_plan(const Plan& plan) {
  std::ostringstream out;
  for (const std::string& w : plan.warnings) out << "! " << w << "\n";
  if (plan.operations.empty()) {
    out << "No changes. The router matches the configuration.\n";
    return out.str();
  }
  int adds = 0, sets = 0, removes = 0, moves = 0;
  for (const Operation& o : plan.operations) {
    switch (o.verb) {
      case Verb::add:
        ++adds;
        out << "+ add    " << o.menu << ": " << o.label << " (" << o.reason << ")\n";
        for (const auto& [k, v] : o.fields) out << "      " << k << " = \"" << v << "\"\n";
        break;
      case Verb::set:
        ++sets;
        out << "~ set    " << o.menu << " " << o.id << ": " << o.label << " (" << o.reason << ")\n";
        for (const auto& [k, v] : o.fields) {
          bool unset = !k.empty() && k.front() == '!';
          std::string name = unset ? k.substr(1) : k;
          auto old = o.old_fields.find(name);
          out << "      " << name << ": \"" << (old == o.old_fields.end() ? "" : old->second) << "\" -> "
              << (unset ? "(unset)" : "\"" + v + "\"") << "\n";
        }
        break;
      case Verb::remove:
        ++removes;
        out << "- remove " << o.menu << " " << o.id << ": " << o.label << " (" << o.reason << ")\n";
        break;
      case Verb::move:
        ++moves;
        out << "^ move   " << o.menu << " " << o.id << " before "
            << (o.destination.empty() ? std::string("(end)") : o.destination) << ": " << o.label << " ("
            << o.reason << ")\n";
        break;
    }
  }
  out << "Plan: " << adds << " to add, " << sets << " to change, " << removes << " to remove, " << moves
      << " to move.\n";
  return out.str();
}

}  // namespace sixgate::agent
