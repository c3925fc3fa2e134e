#pragma once
// The pure heart of the netlink source: the IPv6 addresses and RA prefixes currently on one interface, each
// with its lifetime deadlines, mapped to the delegated prefix they belong to. No sockets; time is passed in.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/types.hpp"
#include "agent/sources/netlink_events.hpp"
#include "common/ip.hpp"

namespace sixgate::agent {

class InterfacePrefixTracker {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    int ifindex = 0;
    unsigned delegated_length = 56;
    bool include_ula = false;
    std::string source;  // PrefixObservation::source
  };

  explicit InterfacePrefixTracker(Options options);

  // Each returns true when the tracked state changed (an entry added, removed or given new deadlines).
  // Events for other interfaces and addresses that cannot be a home prefix are ignored.
  bool apply(const AddressEvent& event, Clock::time_point now);
  bool apply(const PrefixInfoEvent& event, Clock::time_point now);
  bool apply(const NetlinkEvent& event, Clock::time_point now);
  bool expire(Clock::time_point now);  // drops entries whose valid lifetime has ended
  void clear();                        // forget everything (before a resynchronising dump)

  // The earliest valid-lifetime deadline of any entry (when expire() next has work), if any is finite.
  std::optional<Clock::time_point> next_expiry() const;

  // One observation per delegated prefix, sorted by prefix; lifetimes are the longest of the entries inside
  // it and remaining at `now` (std::chrono::seconds::max() for infinite).
  std::vector<PrefixObservation> observations(Clock::time_point now) const;

  // Whether an address can name a home prefix: global unicast (2000::/3), or ULA (fc00::/7) if configured.
  static bool is_candidate(const Ipv6Address& address, bool include_ula);

 private:
  struct Deadlines {
    Clock::time_point valid;
    Clock::time_point preferred;
    bool operator==(const Deadlines&) const = default;
  };
  static Deadlines deadlines(std::uint32_t valid_seconds, std::uint32_t preferred_seconds,
                             Clock::time_point now);
  Ipv6Prefix delegated(const Ipv6Address& network, unsigned length) const;

  Options options_;
  std::map<Ipv6Address, std::pair<unsigned, Deadlines>>
      addresses_;  // address → (its prefix length, deadlines)
  std::map<Ipv6Prefix, Deadlines> ra_prefixes_;
};

}  // namespace sixgate::agent
