#include "agent/reconcile_round.hpp"

#include "common/log.hpp"

namespace sixgate::agent {
namespace {

std::string describe(const Operation& op) {
  return std::string(to_string(op.verb)) + " " + op.menu + (op.id.empty() ? "" : " " + op.id) + " (" +
         op.label + ")";
}

Status apply_one(RouterApi& router, const Operation& op) {
  switch (op.verb) {
    case Verb::add: {
      auto r = router.add(op.menu, op.fields);
      if (!r) return r.error();
      return ok_status();
    }
    case Verb::set: {
      auto r = router.set(op.menu, op.id, op.fields);
      if (!r) return r.error();
      return ok_status();
    }
    case Verb::remove:
      return router.remove(op.menu, op.id);
    case Verb::move:
      return router.move(op.menu, {op.id}, op.destination);
  }
  return make_error("unknown operation");
}

}  // namespace

Result<RouterTables> read_tables(RouterApi& router) {
  RouterTables tables;
  for (std::string_view m : {menu::routing_table, menu::route, menu::address_list, menu::mangle}) {
    auto rows = router.list(m);
    if (!rows) return make_error("reading " + std::string(m) + ": " + rows.error().message);
    tables.by_menu[std::string(m)] = std::move(rows).value();
  }
  return tables;
}

ApplyOutcome apply_plan(RouterApi& router, const Plan& plan) {
  ApplyOutcome out;
  for (const Operation& op : plan.operations) {
    Status s = apply_one(router, op);
    if (!s) {
      log::event(spdlog::level::err, "router_write_failed",
                 {{"op", describe(op)}, {"reason", op.reason}, {"error", s.error().message}});
      out.error = describe(op) + ": " + s.error().message;
      return out;
    }
    log::event(spdlog::level::info, "router_write", {{"op", describe(op)}, {"reason", op.reason}});
    ++out.applied;
  }
  return out;
}

RoundOutcome reconcile_round(RouterApi& router, const DesiredState& desired, const ReconcileOptions& options,
                             bool dry_run) {
  RoundOutcome out;
  auto tables = read_tables(router);
  if (!tables) {
    out.error = tables.error().message;
    return out;
  }
  out.plan = plan(desired, *tables, options);
  if (dry_run || out.plan.empty()) return out;
  ApplyOutcome applied = apply_plan(router, out.plan);
  out.writes = applied.applied;
  out.error = applied.error;
  return out;
}

}  // namespace sixgate::agent
