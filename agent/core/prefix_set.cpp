#include "agent/core/prefix_set.hpp"

#include <algorithm>

namespace sixgate::agent {
namespace {

using TimePoint = SteadyClock::time_point;

constexpr TimePoint forever = TimePoint::max();

// Lifetimes beyond ~100 years (and seconds::max(), the "infinite" marker) never end.
TimePoint deadline(TimePoint now, std::chrono::seconds lifetime) {
  constexpr auto horizon = std::chrono::hours(24 * 365 * 100);
  if (lifetime >= horizon) return forever;
  return now + std::chrono::duration_cast<SteadyClock::duration>(lifetime);
}

std::optional<std::chrono::seconds> remaining(TimePoint until, TimePoint now) {
  if (until == forever) return std::nullopt;
  if (until <= now) return std::chrono::seconds(0);
  return std::chrono::duration_cast<std::chrono::seconds>(until - now);
}

std::vector<Ipv6Prefix> difference(const std::set<Ipv6Prefix>& a, const std::set<Ipv6Prefix>& b) {
  std::vector<Ipv6Prefix> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

std::vector<Ipv6Prefix> normalise_prefixes(std::vector<Ipv6Prefix> prefixes) {
  std::sort(prefixes.begin(), prefixes.end());
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  std::vector<Ipv6Prefix> kept;
  for (const Ipv6Prefix& p : prefixes) {
    bool inside = std::any_of(kept.begin(), kept.end(), [&](const Ipv6Prefix& k) { return k.contains(p); });
    if (!inside) kept.push_back(p);
  }
  return kept;
}

std::string to_string(const std::vector<Ipv6Prefix>& prefixes) {
  if (prefixes.empty()) return "(none)";
  std::string out;
  for (const Ipv6Prefix& p : prefixes) {
    if (!out.empty()) out += ", ";
    out += p.to_string();
  }
  return out;
}

PrefixSet::PrefixSet(std::chrono::milliseconds debounce) : debounce_(debounce) {}

std::map<Ipv6Prefix, PrefixSet::Seen> PrefixSet::reported(TimePoint now) const {
  std::map<Ipv6Prefix, Seen> out;
  for (const auto& [source, seen] : by_source_) {
    for (const auto& [prefix, s] : seen) {
      if (s.valid_until <= now) continue;
      auto [it, fresh] = out.emplace(prefix, s);
      if (!fresh) {
        it->second.valid_until = std::max(it->second.valid_until, s.valid_until);
        it->second.preferred_until = std::max(it->second.preferred_until, s.preferred_until);
      }
    }
  }
  return out;
}

std::set<Ipv6Prefix> PrefixSet::candidate(TimePoint now) const {
  std::set<Ipv6Prefix> out;
  for (const auto& [prefix, seen] : reported(now)) out.insert(prefix);
  for (const auto& [prefix, kept] : retained_)
    if (kept.valid_until > now) out.insert(prefix);
  return out;
}

void PrefixSet::report(std::string_view source, const std::vector<PrefixObservation>& current,
                       TimePoint now) {
  const auto before = reported(now);

  std::map<Ipv6Prefix, Seen> fresh;
  std::set<Ipv6Prefix> withdrawn;  // reported with valid lifetime 0: gone at once
  for (const PrefixObservation& o : current) {
    if (o.valid_lifetime <= std::chrono::seconds(0)) {
      withdrawn.insert(o.prefix);
      continue;
    }
    Seen s{deadline(now, o.valid_lifetime),
           deadline(now, std::max(o.preferred_lifetime, std::chrono::seconds(0)))};
    auto [it, inserted] = fresh.emplace(o.prefix, s);
    if (!inserted) {
      it->second.valid_until = std::max(it->second.valid_until, s.valid_until);
      it->second.preferred_until = std::max(it->second.preferred_until, s.preferred_until);
    }
  }
  auto slot = by_source_.find(source);
  if (slot == by_source_.end())
    slot = by_source_.emplace(std::string(source), std::map<Ipv6Prefix, Seen>{}).first;
  slot->second = std::move(fresh);

  const auto after = reported(now);
  for (const auto& [prefix, seen] : before) {
    if (after.count(prefix) != 0) continue;
    first_seen_.erase(prefix);
    // Vanished from every source: keep it until its valid lifetime ends, unless that never ends (a static or
    // manual prefix removed on purpose) or the source said it is gone (lifetime 0).
    if (withdrawn.count(prefix) == 0 && seen.valid_until != forever)
      retained_[prefix] = Retained{seen.valid_until, seen.preferred_until};
  }
  for (const auto& [prefix, seen] : after) {
    retained_.erase(prefix);
    first_seen_.emplace(prefix, now);
  }
  for (const Ipv6Prefix& p : withdrawn) {
    if (after.count(p) != 0) continue;  // another source still has it
    retained_.erase(p);
    if (effective_.count(p) != 0) expired_now_.insert(p);
  }

  auto next = candidate(now);
  if (next != candidate_) {
    candidate_ = std::move(next);
    candidate_changed_at_ = now;
  }
}

void PrefixSet::drop_expired(TimePoint now) {
  for (auto& [source, seen] : by_source_) {
    for (auto it = seen.begin(); it != seen.end();) {
      if (it->second.valid_until <= now) {
        expired_now_.insert(it->first);
        it = seen.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto it = retained_.begin(); it != retained_.end();) {
    if (it->second.valid_until <= now) {
      expired_now_.insert(it->first);
      it = retained_.erase(it);
    } else {
      ++it;
    }
  }
  // A prefix that expired in one source but is still valid in another is not expired.
  const auto still = candidate(now);
  for (auto it = expired_now_.begin(); it != expired_now_.end();) {
    if (still.count(*it) != 0)
      it = expired_now_.erase(it);
    else
      ++it;
  }
  for (const Ipv6Prefix& p : expired_now_)
    if (still.count(p) == 0) first_seen_.erase(p);
}

PrefixChange PrefixSet::make_change(TimePoint now, const std::set<Ipv6Prefix>& next, std::string reason) {
  PrefixChange c;
  c.at = now;
  c.before = effective_view_;
  c.added = difference(next, effective_);
  c.removed = difference(effective_, next);
  effective_ = next;
  effective_view_ = normalise_prefixes(std::vector<Ipv6Prefix>(effective_.begin(), effective_.end()));
  c.after = effective_view_;
  c.reason = std::move(reason);
  return c;
}

std::vector<PrefixChange> PrefixSet::advance(TimePoint now) {
  std::vector<PrefixChange> changes;
  drop_expired(now);

  std::set<Ipv6Prefix> gone;
  for (const Ipv6Prefix& p : expired_now_)
    if (effective_.count(p) != 0) gone.insert(p);
  expired_now_.clear();
  if (!gone.empty()) {
    std::set<Ipv6Prefix> next;
    std::set_difference(effective_.begin(), effective_.end(), gone.begin(), gone.end(),
                        std::inserter(next, next.end()));
    changes.push_back(make_change(now, next, "valid lifetime ended"));
  }

  // Expiries change the candidate set without restarting the debounce of other pending changes.
  candidate_ = candidate(now);

  // Excluding one more prefix never marks home traffic, so additions apply at once; only removals wait.
  if (auto added = difference(candidate_, effective_); !added.empty()) {
    std::set<Ipv6Prefix> next = effective_;
    next.insert(added.begin(), added.end());
    const bool first = effective_.empty();
    changes.push_back(make_change(
        now, next,
        first ? "first prefix (applied without debounce)" : "new prefix (added without debounce)"));
  }
  if (candidate_ != effective_ && now >= candidate_changed_at_ + debounce_)
    changes.push_back(make_change(now, candidate_, "debounced removal"));
  return changes;
}

std::optional<PrefixChange> PrefixSet::flush(TimePoint now, std::string reason) {
  drop_expired(now);
  expired_now_.clear();
  candidate_ = candidate(now);
  if (candidate_ == effective_) return std::nullopt;
  return make_change(now, candidate_, std::move(reason));
}

const std::vector<Ipv6Prefix>& PrefixSet::effective(TimePoint now) {
  advance(now);
  return effective_view_;
}

bool PrefixSet::has_additions() const {
  return !std::includes(effective_.begin(), effective_.end(), candidate_.begin(), candidate_.end());
}

bool PrefixSet::pending() const {
  return candidate_ != effective_;
}

std::optional<TimePoint> PrefixSet::next_deadline() const {
  std::optional<TimePoint> next;
  auto consider = [&](TimePoint t) {
    if (t != forever && (!next || t < *next)) next = t;
  };
  if (has_additions())
    consider(candidate_changed_at_);
  else if (candidate_ != effective_)
    consider(candidate_changed_at_ + debounce_);
  for (const auto& [source, seen] : by_source_)
    for (const auto& [prefix, s] : seen) consider(s.valid_until);
  for (const auto& [prefix, kept] : retained_) consider(kept.valid_until);
  return next;
}

std::optional<Ipv6Prefix> PrefixSet::primary() const {
  std::optional<Ipv6Prefix> best;
  TimePoint best_seen{};
  for (const Ipv6Prefix& p : effective_view_) {
    auto it = first_seen_.find(p);
    if (it == first_seen_.end()) continue;
    bool better = !best || it->second > best_seen || (it->second == best_seen && p.length() < best->length());
    if (better) {
      best = p;
      best_seen = it->second;
    }
  }
  if (best) return best;
  for (const Ipv6Prefix& p : effective_view_)
    if (!best || p.length() < best->length()) best = p;
  return best;
}

std::vector<PrefixState> PrefixSet::snapshot(TimePoint now) const {
  std::set<Ipv6Prefix> all = candidate_;
  all.insert(effective_.begin(), effective_.end());
  std::vector<PrefixState> out;
  for (const Ipv6Prefix& p : all) {
    PrefixState st;
    st.prefix = p;
    st.effective = effective_.count(p) != 0;
    TimePoint valid{}, preferred{};
    bool known = false;
    for (const auto& [source, seen] : by_source_) {
      auto it = seen.find(p);
      if (it == seen.end() || it->second.valid_until <= now) continue;
      st.sources.push_back(source);
      valid = known ? std::max(valid, it->second.valid_until) : it->second.valid_until;
      preferred = known ? std::max(preferred, it->second.preferred_until) : it->second.preferred_until;
      known = true;
    }
    if (auto it = retained_.find(p); !known && it != retained_.end()) {
      st.retained = true;
      valid = it->second.valid_until;
      preferred = it->second.preferred_until;
      known = true;
    }
    if (known) {
      st.valid_remaining = remaining(valid, now);
      st.preferred_remaining = remaining(preferred, now);
    } else {
      st.valid_remaining = std::chrono::seconds(0);  // leaving: removal waits for its debounce
      st.preferred_remaining = std::chrono::seconds(0);
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<PrefixObservation> PrefixSet::remember(TimePoint now) const {
  std::vector<PrefixObservation> out;
  for (const PrefixState& p : snapshot(now)) {
    if (!p.valid_remaining || *p.valid_remaining <= std::chrono::seconds(0)) continue;
    if (!candidate_.count(p.prefix)) continue;
    out.push_back(
        {p.prefix, *p.valid_remaining, p.preferred_remaining.value_or(*p.valid_remaining), "remembered"});
  }
  return out;
}

void PrefixSet::restore(const std::vector<PrefixObservation>& remembered, TimePoint now) {
  for (const PrefixObservation& o : remembered) {
    if (o.valid_lifetime <= std::chrono::seconds(0)) continue;
    TimePoint valid = deadline(now, o.valid_lifetime);
    if (valid == forever) continue;  // only finite lifetimes are kept after a source drops a prefix
    Retained r{valid, deadline(now, std::max(o.preferred_lifetime, std::chrono::seconds(0)))};
    auto [it, fresh] = retained_.emplace(o.prefix, r);
    if (!fresh) it->second.valid_until = std::max(it->second.valid_until, r.valid_until);
  }
  auto next = candidate(now);
  if (next != candidate_) {
    candidate_ = std::move(next);
    candidate_changed_at_ = now;
  }
}

}  // namespace sixgate::agent
