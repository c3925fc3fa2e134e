#include "agent/sources/netlink_events.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <memory>

using namespace sixgate;
using namespace sixgate::agent;

namespace {

using MsgPtr = std::unique_ptr<nl_msg, decltype(&nlmsg_free)>;

MsgPtr address_message(int type, unsigned char family, const char* address, unsigned char len, int ifindex,
                       bool with_cacheinfo, std::uint32_t valid, std::uint32_t preferred) {
  MsgPtr msg(nlmsg_alloc_simple(type, 0), &nlmsg_free);
  ifaddrmsg ifa{};
  ifa.ifa_family = family;
  ifa.ifa_prefixlen = len;
  ifa.ifa_index = static_cast<unsigned>(ifindex);
  REQUIRE(nlmsg_append(msg.get(), &ifa, sizeof ifa, NLMSG_ALIGNTO) == 0);
  if (family == AF_INET6) {
    auto a = Ipv6Address::parse(address).value();
    REQUIRE(nla_put(msg.get(), IFA_ADDRESS, 16, a.bytes().data()) == 0);
  } else {
    auto a = Ipv4Address::parse(address).value();
    REQUIRE(nla_put(msg.get(), IFA_LOCAL, 4, a.bytes().data()) == 0);
    REQUIRE(nla_put(msg.get(), IFA_ADDRESS, 4, a.bytes().data()) == 0);
  }
  if (with_cacheinfo) {
    ifa_cacheinfo ci{};
    ci.ifa_valid = valid;
    ci.ifa_prefered = preferred;
    REQUIRE(nla_put(msg.get(), IFA_CACHEINFO, sizeof ci, &ci) == 0);
  }
  return msg;
}

MsgPtr prefix_message(const char* network, unsigned char len, int ifindex, std::uint32_t valid,
                      std::uint32_t preferred, bool with_address = true, bool with_cacheinfo = true) {
  MsgPtr msg(nlmsg_alloc_simple(RTM_NEWPREFIX, 0), &nlmsg_free);
  prefixmsg pm{};
  pm.prefix_family = AF_INET6;
  pm.prefix_ifindex = ifindex;
  pm.prefix_len = len;
  REQUIRE(nlmsg_append(msg.get(), &pm, sizeof pm, NLMSG_ALIGNTO) == 0);
  if (with_address) {
    auto a = Ipv6Address::parse(network).value();
    REQUIRE(nla_put(msg.get(), PREFIX_ADDRESS, 16, a.bytes().data()) == 0);
  }
  if (with_cacheinfo) {
    prefix_cacheinfo ci{preferred, valid};
    REQUIRE(nla_put(msg.get(), PREFIX_CACHEINFO, sizeof ci, &ci) == 0);
  }
  return msg;
}

}  // namespace

TEST_CASE("decode RTM_NEWADDR for IPv6 with lifetimes", "[netlink]") {
  auto msg = address_message(RTM_NEWADDR, AF_INET6, "2001:db8:1200:1::42", 64, 5, true, 1800, 900);
  auto r = decode_netlink_message(msg.get());
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  const auto& e = std::get<AddressEvent>(**r);
  CHECK_FALSE(e.removed);
  CHECK(e.ifindex == 5);
  CHECK(e.address == Ipv6Address::parse("2001:db8:1200:1::42").value());
  CHECK(e.prefix_length == 64);
  CHECK(e.valid_seconds == 1800);
  CHECK(e.preferred_seconds == 900);
}

TEST_CASE("decode RTM_DELADDR marks the event removed", "[netlink]") {
  auto msg = address_message(RTM_DELADDR, AF_INET6, "2001:db8:1200:1::42", 64, 5, true, 10, 0);
  auto r = decode_netlink_message(msg.get());
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(std::get<AddressEvent>(**r).removed);
}

TEST_CASE("decode an IPv6 address without IFA_CACHEINFO as permanent", "[netlink]") {
  auto msg = address_message(RTM_NEWADDR, AF_INET6, "2001:db8::1", 64, 2, false, 0, 0);
  auto r = decode_netlink_message(msg.get());
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  CHECK(std::get<AddressEvent>(**r).valid_seconds == kInfiniteLifetime);
  CHECK(std::get<AddressEvent>(**r).preferred_seconds == kInfiniteLifetime);
}

TEST_CASE("decode ignores IPv4 addresses and unrelated message types", "[netlink]") {
  auto v4 = address_message(RTM_NEWADDR, AF_INET, "192.0.2.1", 24, 2, false, 0, 0);
  auto r = decode_netlink_message(v4.get());
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());

  MsgPtr link(nlmsg_alloc_simple(RTM_NEWLINK, 0), &nlmsg_free);
  auto r2 = decode_netlink_message(link.get());
  REQUIRE(r2.ok());
  CHECK_FALSE(r2->has_value());
}

TEST_CASE("decode rejects a truncated address message", "[netlink]") {
  MsgPtr msg(nlmsg_alloc_simple(RTM_NEWADDR, 0), &nlmsg_free);
  unsigned char half[4] = {AF_INET6, 64, 0, 0};
  REQUIRE(nlmsg_append(msg.get(), half, sizeof half, NLMSG_ALIGNTO) == 0);
  CHECK_FALSE(decode_netlink_message(msg.get()).ok());
}

TEST_CASE("decode rejects a truncated IFA_CACHEINFO", "[netlink]") {
  auto msg = address_message(RTM_NEWADDR, AF_INET6, "2001:db8::1", 64, 2, false, 0, 0);
  std::uint32_t too_short = 5;
  REQUIRE(nla_put(msg.get(), IFA_CACHEINFO, sizeof too_short, &too_short) == 0);
  CHECK_FALSE(decode_netlink_message(msg.get()).ok());
}

TEST_CASE("decode RTM_NEWPREFIX (RA prefix information)", "[netlink]") {
  auto msg = prefix_message("2001:db8:1200:2::", 64, 9, 120, 60);
  auto r = decode_netlink_message(msg.get());
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  const auto& e = std::get<PrefixInfoEvent>(**r);
  CHECK(e.ifindex == 9);
  CHECK(e.prefix == Ipv6Prefix::parse("2001:db8:1200:2::/64").value());
  CHECK(e.valid_seconds == 120);
  CHECK(e.preferred_seconds == 60);
}

TEST_CASE("decode rejects RTM_NEWPREFIX without address or cacheinfo, or with a bad length", "[netlink]") {
  CHECK_FALSE(decode_netlink_message(prefix_message("2001:db8::", 64, 1, 1, 1, false, true).get()).ok());
  CHECK_FALSE(decode_netlink_message(prefix_message("2001:db8::", 64, 1, 1, 1, true, false).get()).ok());
  CHECK_FALSE(decode_netlink_message(prefix_message("2001:db8::", 129, 1, 1, 1).get()).ok());
}

TEST_CASE("receive step: only a lost-message error resyncs, any other error reopens the socket",
          "[netlink]") {
  CHECK(next_receive_step(3) == ReceiveStep::read_more);
  CHECK(next_receive_step(0) == ReceiveStep::drained);
  CHECK(next_receive_step(-NLE_AGAIN) == ReceiveStep::drained);
  CHECK(next_receive_step(-NLE_NOMEM) == ReceiveStep::resync);
  CHECK(next_receive_step(-NLE_DUMP_INTR) == ReceiveStep::resync);
  // Errors that would come back on every read must not keep the loop spinning.
  CHECK(next_receive_step(-NLE_BAD_SOCK) == ReceiveStep::reopen);
  CHECK(next_receive_step(-NLE_MSG_TRUNC) == ReceiveStep::reopen);
  CHECK(next_receive_step(-NLE_FAILURE) == ReceiveStep::reopen);
}
