#pragma once
// Where the agent learns its home prefixes: a PrefixSource reports the full set of prefixes it currently
// sees, each time that set (or a lifetime in it) changes materially. Debouncing and keeping vanished prefixes
// until their valid lifetime ends are the prefix set's job (agent/core), not the source's.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/types.hpp"
#include "common/ip.hpp"
#include "common/result.hpp"

namespace sixgate::agent {

class PrefixSource {
 public:
  virtual ~PrefixSource() = default;
  // The source's full current set, on every change (an empty vector means "I see nothing now").
  using Callback = std::function<void(std::vector<PrefixObservation>)>;
  virtual std::string name() const = 0;  // e.g. "netlink:eth0", also used as PrefixObservation::source
  // Starts watching; the callback is always invoked on `io`'s thread, and start() never blocks that thread.
  // The first callback (the initial set) comes soon after start, also when the set is empty; for the
  // dhcp-client source, after the first successful read of the router.
  virtual void start(boost::asio::io_context& io, Callback on_change) = 0;
  // Stops watching; no callback runs after stop() returns (call it on io's thread or after io has stopped).
  virtual void stop() = 0;
};

// (c) Fixed prefixes (ULA, a second uplink): reported once, with infinite lifetimes.
std::unique_ptr<PrefixSource> make_static_source(std::vector<Ipv6Prefix> prefixes);

// (b) Addresses and RA prefix information on one local interface, via rtnetlink (libnl). Follows the
// interface by name: it may be missing at start (an empty set until it appears) or be recreated. RA prefix
// information comes from RTM_NEWPREFIX (sent by the kernel for each received prefix option; there is no dump
// of it), addresses from RTM_NEWADDR/RTM_DELADDR and an initial dump; either one is enough to see a prefix.
struct NetlinkSourceOptions {
  std::string interface;  // e.g. "eth0"
  // An address or RA prefix inside 2001:db8:1200:1::/64 reports 2001:db8:1200::/56 (an on-link prefix wider
  // than this keeps its own length).
  unsigned delegated_length = 56;
  bool include_ula = false;  // fc00::/7 addresses are ignored unless this is set
};
std::unique_ptr<PrefixSource> make_netlink_source(NetlinkSourceOptions options);

// (a) The router's own DHCPv6-PD client (`/ipv6/dhcp-client`), polled.
struct DhcpClientSourceOptions {
  std::string interface;  // the dhcp-client entry's `interface`, e.g. "ether1"
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  // Valid lifetime assumed when the router shows none (neither in `prefix` nor in `expires-after`).
  std::chrono::seconds assumed_lifetime{std::chrono::hours(1)};
};
// Reads all rows of /ipv6/dhcp-client. It blocks (an HTTPS request), so the source calls it on a worker
// thread of its own, never on the io_context's thread; the function must therefore be safe to call
// concurrently with the agent's other uses of the same router (e.g. a REST client that serialises its
// requests).
using DhcpClientFetch = std::function<Result<std::vector<RosObject>>()>;
std::unique_ptr<PrefixSource> make_dhcp_client_source(DhcpClientSourceOptions options, DhcpClientFetch fetch);

}  // namespace sixgate::agent
