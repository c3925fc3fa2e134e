#pragma once
// `plan` and `apply --once`: collect every source's current prefixes once (no debounce), then compare with
// the router and (apply) converge.
#include <chrono>
#include <iosfwd>
#include <memory>
#include <vector>

#include "agent/core/config.hpp"
#include "agent/core/desired_state.hpp"
#include "agent/router_api.hpp"
#include "agent/sources/source.hpp"

namespace sixgate::agent {

// Starts the sources on a private io_context and waits until each has reported once (at most `timeout`).
// A source that does not report is an error: planning without it could remove a prefix it still has.
// `remembered` (state_dir) are kept as prefixes that vanished but whose lifetime has not ended; `memory`, if
// given, receives what to remember after this run.
Result<HomePrefixes> gather_home_prefixes(std::vector<std::unique_ptr<PrefixSource>>& sources,
                                          std::chrono::milliseconds timeout,
                                          const std::vector<PrefixObservation>& remembered = {},
                                          std::vector<PrefixObservation>* memory = nullptr);

// Exit codes as the commands return them.
inline constexpr int exit_ok = 0, exit_error = 1, exit_changes = 2;

// Prints the plan to `out`; 0 no changes, 2 changes, 1 error (message on `err`).
int run_plan(const AgentConfig& config, RouterApi& router, const HomePrefixes& home, std::ostream& out,
             std::ostream& err);

// Applies until the router matches (at most 3 rounds); prints each round's plan. 0 converged, 1 error.
int run_apply_once(const AgentConfig& config, RouterApi& router, const HomePrefixes& home, std::ostream& out,
                   std::ostream& err);

}  // namespace sixgate::agent
