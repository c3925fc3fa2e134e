#include "agent/sources/observation_change.hpp"

#include <algorithm>
#include <map>

namespace sixgate::agent {
namespace {

using Clock = std::chrono::steady_clock;

bool deadline_moved(std::chrono::seconds before, Clock::time_point before_at, std::chrono::seconds after,
                    Clock::time_point after_at, std::chrono::seconds slack) {
  const bool before_infinite = before == std::chrono::seconds::max();
  const bool after_infinite = after == std::chrono::seconds::max();
  if (before_infinite || after_infinite) return before_infinite != after_infinite;
  const auto a = before_at + before;
  const auto b = after_at + after;
  if (after == std::chrono::seconds(0) && a <= after_at) return false;  // ended then, still ended now
  // Refreshes that move a long lifetime's end a little (an RA every few minutes) are not worth a report.
  const auto allowed = std::max(slack, before / 10);
  return (a > b ? a - b : b - a) > allowed;
}

std::map<Ipv6Prefix, const PrefixObservation*> by_prefix(const std::vector<PrefixObservation>& set) {
  std::map<Ipv6Prefix, const PrefixObservation*> out;
  for (const auto& o : set) out.emplace(o.prefix, &o);
  return out;
}

}  // namespace

bool observations_differ(const std::vector<PrefixObservation>& before, Clock::time_point before_at,
                         const std::vector<PrefixObservation>& after, Clock::time_point after_at,
                         std::chrono::seconds slack) {
  const auto old_set = by_prefix(before);
  const auto new_set = by_prefix(after);
  if (old_set.size() != new_set.size()) return true;
  for (const auto& [prefix, now] : new_set) {
    auto it = old_set.find(prefix);
    if (it == old_set.end()) return true;
    const PrefixObservation& then = *it->second;
    if (deadline_moved(then.valid_lifetime, before_at, now->valid_lifetime, after_at, slack) ||
        deadline_moved(then.preferred_lifetime, before_at, now->preferred_lifetime, after_at, slack))
      return true;
  }
  return false;
}

}  // namespace sixgate::agent
