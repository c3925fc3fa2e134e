#include "agent/sources/interface_prefix_tracker.hpp"

#include <algorithm>

namespace sixgate::agent {

InterfacePrefixTracker::InterfacePrefixTracker(Options options) : options_(std::move(options)) {}

bool InterfacePrefixTracker::is_candidate(const Ipv6Address& address, bool include_ula) {
  const auto first = address.bytes()[0];
  if ((first & 0xE0) == 0x20) return true;  // 2000::/3
  return include_ula && (first & 0xFE) == 0xFC;
}

InterfacePrefixTracker::Deadlines InterfacePrefixTracker::deadlines(std::uint32_t valid_seconds,
                                                                    std::uint32_t preferred_seconds,
                                                                    Clock::time_point now) {
  auto at = [now](std::uint32_t s) {
    return s == kInfiniteLifetime ? Clock::time_point::max() : now + std::chrono::seconds(s);
  };
  Deadlines d{at(valid_seconds), at(preferred_seconds)};
  d.preferred = std::min(d.preferred, d.valid);
  return d;
}

Ipv6Prefix InterfacePrefixTracker::delegated(const Ipv6Address& network, unsigned length) const {
  // An on-link prefix wider than the configured delegation is home as a whole.
  return Ipv6Prefix(network, std::min(length, options_.delegated_length));
}

bool InterfacePrefixTracker::apply(const AddressEvent& event, Clock::time_point now) {
  if (event.ifindex != options_.ifindex || !is_candidate(event.address, options_.include_ula)) return false;
  if (event.removed || event.valid_seconds == 0) return addresses_.erase(event.address) > 0;
  auto entry =
      std::make_pair(event.prefix_length, deadlines(event.valid_seconds, event.preferred_seconds, now));
  auto [it, inserted] = addresses_.try_emplace(event.address, entry);
  if (inserted) return true;
  if (it->second == entry) return false;
  it->second = entry;
  return true;
}

bool InterfacePrefixTracker::apply(const PrefixInfoEvent& event, Clock::time_point now) {
  if (event.ifindex != options_.ifindex || !is_candidate(event.prefix.network(), options_.include_ula))
    return false;
  if (event.valid_seconds == 0) return ra_prefixes_.erase(event.prefix) > 0;
  auto d = deadlines(event.valid_seconds, event.preferred_seconds, now);
  auto [it, inserted] = ra_prefixes_.try_emplace(event.prefix, d);
  if (inserted) return true;
  if (it->second == d) return false;
  it->second = d;
  return true;
}

bool InterfacePrefixTracker::apply(const NetlinkEvent& event, Clock::time_point now) {
  return std::visit([&](const auto& e) { return apply(e, now); }, event);
}

bool InterfacePrefixTracker::expire(Clock::time_point now) {
  const auto before = addresses_.size() + ra_prefixes_.size();
  std::erase_if(addresses_, [now](const auto& kv) { return kv.second.second.valid <= now; });
  std::erase_if(ra_prefixes_, [now](const auto& kv) { return kv.second.valid <= now; });
  return addresses_.size() + ra_prefixes_.size() != before;
}

void InterfacePrefixTracker::clear() {
  addresses_.clear();
  ra_prefixes_.clear();
}

std::optional<InterfacePrefixTracker::Clock::time_point> InterfacePrefixTracker::next_expiry() const {
  auto earliest = Clock::time_point::max();
  for (const auto& [address, entry] : addresses_) earliest = std::min(earliest, entry.second.valid);
  for (const auto& [prefix, d] : ra_prefixes_) earliest = std::min(earliest, d.valid);
  if (earliest == Clock::time_point::max()) return std::nullopt;
  return earliest;
}

std::vector<PrefixObservation> InterfacePrefixTracker::observations(Clock::time_point now) const {
  std::map<Ipv6Prefix, Deadlines> merged;
  auto merge = [&merged](const Ipv6Prefix& p, const Deadlines& d) {
    auto [it, inserted] = merged.try_emplace(p, d);
    if (!inserted) {
      it->second.valid = std::max(it->second.valid, d.valid);
      it->second.preferred = std::max(it->second.preferred, d.preferred);
    }
  };
  for (const auto& [address, entry] : addresses_) merge(delegated(address, entry.first), entry.second);
  for (const auto& [prefix, d] : ra_prefixes_) merge(delegated(prefix.network(), prefix.length()), d);

  auto remaining = [now](Clock::time_point deadline) {
    if (deadline == Clock::time_point::max()) return std::chrono::seconds::max();
    if (deadline <= now) return std::chrono::seconds(0);
    return std::chrono::duration_cast<std::chrono::seconds>(deadline - now);
  };
  std::vector<PrefixObservation> out;
  for (const auto& [prefix, d] : merged) {
    if (d.valid <= now) continue;  // not yet expired by expire(), but already gone
    out.push_back({prefix, remaining(d.valid), remaining(d.preferred), options_.source});
  }
  return out;
}

}  // namespace sixgate::agent
