#pragma once
// The set of home prefixes the router's rule must exclude, built from what the prefix sources report.
// Pure: no clock of its own, every call gets `now`.
//
// Rules (the tests in tests/agent/core/prefix_set_test.cpp pin them down):
// - Level-triggered: each source reports its full current set; a source's new report replaces its old one.
// - A prefix no source reports any more stays in the set until its last known valid lifetime ends, so open
//   connections to its addresses keep working. A prefix reported with valid lifetime 0 is gone at once; one
//   that vanishes with an infinite lifetime (a static prefix, a manual address) is removed like a normal
//   change.
// - Lifetimes count down from the time of the report; a prefix whose valid lifetime ended leaves the set.
// - Additions apply at once: excluding one more prefix can never mark home traffic, while waiting would leave
//   traffic to a new home prefix marked for the debounce.
// - Removals are debounced: a prefix leaves the effective set only after `debounce` without further change of
//   the candidate set (a prefix that vanished with a finite lifetime is still a candidate until that ends).
//   Exception, applied at once: expiries and withdrawals (the prefix is no longer valid anyway).
// - effective(): sorted, de-duplicated, a prefix contained in another one dropped.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/types.hpp"
#include "common/ip.hpp"

namespace sixgate::agent {

using SteadyClock = std::chrono::steady_clock;

// What became effective at one moment, for logs: "2001:db8:1::/56 -> 2001:db8:1::/56, 2001:db8:2::/56 (new
// prefix (added without debounce))".
struct PrefixChange {
  SteadyClock::time_point at;
  std::vector<Ipv6Prefix> before;  // effective() before
  std::vector<Ipv6Prefix> after;   // effective() after
  std::vector<Ipv6Prefix> added, removed;
  std::string reason;  // e.g. "first prefix", "new prefix", "debounced removal", "valid lifetime ended"
};

// One prefix of the candidate set, for status output.
struct PrefixState {
  Ipv6Prefix prefix;
  std::optional<std::chrono::seconds> valid_remaining;      // nullopt: infinite
  std::optional<std::chrono::seconds> preferred_remaining;  // nullopt: infinite
  std::vector<std::string> sources;  // sources reporting it now; empty when only kept for its lifetime
  bool effective = false;            // part of effective() (false while a change is debounced)
  bool retained = false;             // no source reports it any more; kept until its valid lifetime ends
};

class PrefixSet {
 public:
  explicit PrefixSet(std::chrono::milliseconds debounce);

  // A source's full current set. Observations with another `source` name are counted under `source`.
  void report(std::string_view source, const std::vector<PrefixObservation>& current,
              SteadyClock::time_point now);

  // Applies what is due at `now` (additions, debounced removals, expiries) and returns what became
  // effective, if anything.
  std::vector<PrefixChange> advance(SteadyClock::time_point now);

  // Makes the candidate set effective now, skipping the debounce (e.g. once every source has given its first
  // report at startup). Returns the change, if the set differed.
  std::optional<PrefixChange> flush(SteadyClock::time_point now, std::string reason);

  // The effective set as of the last advance().
  const std::vector<Ipv6Prefix>& effective() const { return effective_view_; }
  // advance(now), then effective().
  const std::vector<Ipv6Prefix>& effective(SteadyClock::time_point now);

  // The prefix compatibility mode (a single dst-address) should use: among the effective prefixes a source
  // still reports, the one that appeared most recently (ties: the widest); else the widest effective one.
  std::optional<Ipv6Prefix> primary() const;

  // When advance() has something to do next (debounce end, an expiry); nullopt: nothing scheduled.
  std::optional<SteadyClock::time_point> next_deadline() const;

  // True while the candidate set differs from the effective one (a removal waits for its debounce).
  bool pending() const;

  std::vector<PrefixState> snapshot(SteadyClock::time_point now) const;

  // For keeping the set across restarts (state_dir): every prefix of the candidate set with a finite valid
  // lifetime, with its remaining lifetimes at `now`; `source` is "remembered".
  std::vector<PrefixObservation> remember(SteadyClock::time_point now) const;
  // Puts remembered prefixes back as if they had vanished from their sources: kept until their valid lifetime
  // ends, or refreshed as soon as a source reports them again. Call before the sources' first reports.
  void restore(const std::vector<PrefixObservation>& remembered, SteadyClock::time_point now);

 private:
  struct Seen {
    SteadyClock::time_point valid_until;
    SteadyClock::time_point preferred_until;
  };
  struct Retained {
    SteadyClock::time_point valid_until;
    SteadyClock::time_point preferred_until;
  };

  std::set<Ipv6Prefix> candidate(SteadyClock::time_point now) const;
  bool has_additions() const;  // the candidate set holds a prefix the effective one lacks
  std::map<Ipv6Prefix, Seen> reported(
      SteadyClock::time_point now) const;  // union over sources, max lifetimes
  void drop_expired(SteadyClock::time_point now);
  PrefixChange make_change(SteadyClock::time_point now, const std::set<Ipv6Prefix>& next, std::string reason);

  std::chrono::milliseconds debounce_;
  std::map<std::string, std::map<Ipv6Prefix, Seen>, std::less<>> by_source_;
  std::map<Ipv6Prefix, Retained> retained_;
  std::map<Ipv6Prefix, SteadyClock::time_point> first_seen_;  // while some source reports it
  std::set<Ipv6Prefix> candidate_;                            // as of the last report/advance
  SteadyClock::time_point candidate_changed_at_{};
  std::set<Ipv6Prefix>
      expired_now_;  // effective prefixes whose lifetime ended / were withdrawn: leave at once
  std::set<Ipv6Prefix> effective_;
  std::vector<Ipv6Prefix> effective_view_;  // normalised effective_
};

// Sorted, duplicates and prefixes contained in another one removed.
std::vector<Ipv6Prefix> normalise_prefixes(std::vector<Ipv6Prefix> prefixes);

std::string to_string(const std::vector<Ipv6Prefix>& prefixes);  // "a, b" or "(none)"

}  // namespace sixgate::agent
