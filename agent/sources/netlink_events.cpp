#include "agent/sources/netlink_events.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace sixgate::agent {
namespace {

Ipv6Address address_from(const void* bytes) {
  Ipv6Address::Bytes b{};
  std::memcpy(b.data(), bytes, b.size());
  return Ipv6Address(b);
}

struct ParsedAddress {
  bool seen = false;
  bool ipv6 = false;
  AddressEvent event;
  std::string problem;
};

void on_address_object(nl_object* object, void* arg) {
  auto* out = static_cast<ParsedAddress*>(arg);
  out->seen = true;
  auto* addr = reinterpret_cast<rtnl_addr*>(object);
  if (rtnl_addr_get_family(addr) != AF_INET6) return;
  out->ipv6 = true;
  nl_addr* local = rtnl_addr_get_local(addr);
  if (local == nullptr || nl_addr_get_len(local) != 16) {
    out->problem = "IPv6 address message without a 16-byte address";
    return;
  }
  out->event.ifindex = rtnl_addr_get_ifindex(addr);
  out->event.address = address_from(nl_addr_get_binary_addr(local));
  out->event.prefix_length = std::min(static_cast<unsigned>(rtnl_addr_get_prefixlen(addr)), 128u);
}

Result<std::optional<NetlinkEvent>> decode_address(nl_msg* msg) {
  nlmsghdr* header = nlmsg_hdr(msg);
  if (!nlmsg_valid_hdr(header, sizeof(ifaddrmsg)))
    return make_error("netlink address message shorter than its ifaddrmsg header");
  if (static_cast<const ifaddrmsg*>(nlmsg_data(header))->ifa_family != AF_INET6)
    return std::optional<NetlinkEvent>();

  ParsedAddress parsed;
  parsed.event.removed = header->nlmsg_type == RTM_DELADDR;
  nlmsg_set_proto(msg, NETLINK_ROUTE);  // messages built by hand (tests) have none; nl_msg_parse looks it up
  if (int err = nl_msg_parse(msg, &on_address_object, &parsed); err < 0)
    return make_error(std::string("netlink address message not parsable: ") + nl_geterror(err));
  if (!parsed.problem.empty()) return make_error(parsed.problem);
  if (!parsed.seen || !parsed.ipv6) return std::optional<NetlinkEvent>();

  // Without IFA_CACHEINFO the address is permanent (the kernel always sends it for IPv6, but libnl would
  // report lifetime 0, which means "gone" to the tracker).
  if (nlattr* ci = nlmsg_find_attr(header, sizeof(ifaddrmsg), IFA_CACHEINFO)) {
    if (nla_len(ci) < static_cast<int>(sizeof(ifa_cacheinfo)))
      return make_error("netlink address message with a truncated IFA_CACHEINFO");
    ifa_cacheinfo info{};
    std::memcpy(&info, nla_data(ci), sizeof info);
    parsed.event.valid_seconds = info.ifa_valid;
    parsed.event.preferred_seconds = info.ifa_prefered;
  }
  return std::optional<NetlinkEvent>(parsed.event);
}

Result<std::optional<NetlinkEvent>> decode_prefix(nl_msg* msg) {
  nlmsghdr* header = nlmsg_hdr(msg);
  if (!nlmsg_valid_hdr(header, sizeof(prefixmsg)))
    return make_error("netlink prefix message shorter than its prefixmsg header");
  const auto* pm = static_cast<const prefixmsg*>(nlmsg_data(header));
  if (pm->prefix_family != AF_INET6) return std::optional<NetlinkEvent>();
  if (pm->prefix_len > 128)
    return make_error("netlink prefix message with prefix length " + std::to_string(pm->prefix_len));

  nla_policy policy[PREFIX_MAX + 1] = {};
  policy[PREFIX_ADDRESS].minlen = 16;
  policy[PREFIX_CACHEINFO].minlen = sizeof(prefix_cacheinfo);
  nlattr* attrs[PREFIX_MAX + 1] = {};
  if (int err = nlmsg_parse(header, sizeof(prefixmsg), attrs, PREFIX_MAX, policy); err < 0)
    return make_error(std::string("netlink prefix message not parsable: ") + nl_geterror(err));
  if (attrs[PREFIX_ADDRESS] == nullptr) return make_error("netlink prefix message without PREFIX_ADDRESS");
  if (attrs[PREFIX_CACHEINFO] == nullptr)
    return make_error("netlink prefix message without PREFIX_CACHEINFO");

  prefix_cacheinfo info{};
  std::memcpy(&info, nla_data(attrs[PREFIX_CACHEINFO]), sizeof info);
  PrefixInfoEvent event;
  event.ifindex = pm->prefix_ifindex;
  event.prefix = Ipv6Prefix(address_from(nla_data(attrs[PREFIX_ADDRESS])), pm->prefix_len);
  event.valid_seconds = info.valid_time;
  event.preferred_seconds = info.preferred_time;
  return std::optional<NetlinkEvent>(event);
}

}  // namespace

Result<std::optional<NetlinkEvent>> decode_netlink_message(nl_msg* msg) {
  switch (nlmsg_hdr(msg)->nlmsg_type) {
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return decode_address(msg);
    case RTM_NEWPREFIX:
      return decode_prefix(msg);
    default:
      return std::optional<NetlinkEvent>();
  }
}

ReceiveStep next_receive_step(int nl_result) {
  if (nl_result > 0) return ReceiveStep::read_more;
  if (nl_result == 0 || nl_result == -NLE_AGAIN) return ReceiveStep::drained;
  if (nl_result == -NLE_NOMEM || nl_result == -NLE_DUMP_INTR) return ReceiveStep::resync;
  return ReceiveStep::reopen;
}

}  // namespace sixgate::agent
