#pragma once
// One reconcile round against a router: read every managed table (one GET each), plan, apply in order.
// Blocking (it talks to the router); the daemon runs it off the io_context thread.
#include <cstddef>
#include <optional>
#include <string>

#include "agent/core/desired_state.hpp"
#include "agent/core/reconciler.hpp"
#include "agent/router_api.hpp"
#include "common/result.hpp"

namespace sixgate::agent {

// GET /routing/table, /ipv6/route, /ipv6/firewall/address-list, /ipv6/firewall/mangle.
Result<RouterTables> read_tables(RouterApi& router);

struct ApplyOutcome {
  std::size_t applied = 0;           // operations that succeeded, in order
  std::optional<std::string> error;  // the first failure; nothing after it was sent
};

// Sends the plan's operations in order and stops at the first error (the caller re-reads before trying again,
// since a failed request may still have been applied). Logs one line per write.
ApplyOutcome apply_plan(RouterApi& router, const Plan& plan);

struct RoundOutcome {
  Plan plan;                         // what was (or, dry-run, would be) done
  std::size_t writes = 0;            // operations applied
  std::optional<std::string> error;  // read or write failure
};

RoundOutcome reconcile_round(RouterApi& router, const DesiredState& desired, const ReconcileOptions& options,
                             bool dry_run);

}  // namespace sixgate::agent
