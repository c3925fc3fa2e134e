#pragma once
// Tells a router that keeps differing from one that converges. Pure.
//
// Rounds for the same desired state that all had to write mean the writes do not stick: something changes
// them back, or the router normalises a value differently from how the agent compares it. Without this check
// the daemon would write on every poll while calling itself in sync. `apply --once` and the daemon share it.
#include <optional>
#include <string>

#include "agent/core/desired_state.hpp"
#include "agent/core/reconciler.hpp"

namespace sixgate::agent {

class ConvergenceWatch {
 public:
  explicit ConvergenceWatch(int max_rounds) : max_rounds_(max_rounds) {}

  // After every round that read the router, with the plan it computed (applied or not). Returns the error,
  // naming the operations still planned, once `max_rounds` rounds in a row for the same desired state needed
  // writes; nullopt while converging or in sync. A new desired state starts the count again.
  std::optional<std::string> after_round(const DesiredState& desired, const Plan& plan);

  // Rounds in a row, for the current desired state, that needed writes.
  int rounds_needing_writes() const { return rounds_; }

 private:
  int max_rounds_;
  std::string desired_signature_;
  int rounds_ = 0;
};

}  // namespace sixgate::agent
