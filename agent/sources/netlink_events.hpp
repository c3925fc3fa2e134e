#pragma once
// rtnetlink messages the netlink source cares about, decoded into plain values: IPv6 address events
// (RTM_NEWADDR/RTM_DELADDR, lifetimes from IFA_CACHEINFO, via libnl's rtnl_addr) and RA prefix information
// (RTM_NEWPREFIX, which libnl has no object type for, so its attributes are parsed here).
#include <cstdint>
#include <optional>
#include <variant>

#include "common/ip.hpp"
#include "common/result.hpp"

struct nl_msg;

namespace sixgate::agent {

// The kernel's "forever" lifetime (INFINITY_LIFE_TIME).
inline constexpr std::uint32_t kInfiniteLifetime = 0xFFFFFFFFu;

struct AddressEvent {
  bool removed = false;  // RTM_DELADDR
  int ifindex = 0;
  Ipv6Address address;
  unsigned prefix_length = 0;
  std::uint32_t valid_seconds = kInfiniteLifetime;  // remaining when the message was sent
  std::uint32_t preferred_seconds = kInfiniteLifetime;
};

// One Prefix Information option of a received Router Advertisement. There is no "prefix removed" message:
// a prefix ends when its valid lifetime does (or an RA sends it with valid lifetime 0).
struct PrefixInfoEvent {
  int ifindex = 0;
  Ipv6Prefix prefix;
  std::uint32_t valid_seconds = 0;
  std::uint32_t preferred_seconds = 0;
};

using NetlinkEvent = std::variant<AddressEvent, PrefixInfoEvent>;

// nullopt for messages the source ignores (other families, other message types); an error for a message of
// a handled type that is truncated or lacks a required attribute.
Result<std::optional<NetlinkEvent>> decode_netlink_message(nl_msg* msg);

// What the source does after one nl_recvmsgs_report() on its non-blocking socket, given its result.
enum class ReceiveStep {
  read_more,  // messages were handled; read again
  drained,    // nothing left: wait for readability
  resync,     // notifications lost (receive buffer overflow) or a dump interrupted: dump again
  reopen,     // any other error may repeat on every read: close the socket and reopen it after a delay
};
ReceiveStep next_receive_step(int nl_result);

}  // namespace sixgate::agent
