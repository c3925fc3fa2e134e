#pragma once
// Tells a router that keeps differing from one that converges. Pure.
//
// The same writes planned again and again for the same desired state mean they do not stick: something
// changes them back, or the router normalises a value differently from how the agent compares it. Without
// this check the daemon would write on every poll while calling itself in sync. Different plans in a row
// (a hand edit, then a reboot) are the router being repaired, not a router that does not converge.
// `apply --once` reports its last plan with the same wording (describe_not_converging).
#include <optional>
#include <string>

#include "agent/core/desired_state.hpp"
#include "agent/core/reconciler.hpp"

namespace sixgate::agent {

class ConvergenceWatch {
 public:
  explicit ConvergenceWatch(int max_rounds) : max_rounds_(max_rounds) {}

  // After every round that read the router, with the plan it computed (applied or not). Returns the error,
  // naming the operations, once `max_rounds` rounds in a row for the same desired state planned the same
  // writes; nullopt while converging or in sync. A new desired state or a different plan starts again.
  std::optional<std::string> after_round(const DesiredState& desired, const Plan& plan);

  // Rounds in a row that planned the current writes.
  int repeated_rounds() const { return rounds_; }

 private:
  int max_rounds_;
  std::string desired_signature_, plan_signature_;
  int rounds_ = 0;
};

// "the router still differs after <rounds> rounds (...): set /ipv6/route *1 (route): distance=20; ..."
std::string describe_not_converging(const Plan& plan, int rounds);

}  // namespace sixgate::agent
