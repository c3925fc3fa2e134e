#pragma once
// Channel addresses as written in configs: "[fe80::1%wg0]:7443", "[2001:db8::1]:7443", "192.0.2.1:7443".
// A zone (interface name) becomes the scope id via if_nametoindex(), at the moment of the call: an interface
// that does not exist (yet) is an error the caller may retry later.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/ip/udp.hpp>

#include "common/result.hpp"

namespace sixgate::channel {

struct ChannelAddress {
  std::string host;  // address text without brackets, zone included ("fe80::1%wg0")
  std::uint16_t port = 0;
  std::string text;  // as written
};

// Syntax only (no interface lookup): for config validation.
Result<ChannelAddress> parse_channel_address(std::string_view text);

// True for the unspecified address ("[::]:7443", "0.0.0.0:7443"): a wildcard, never a tunnel address.
bool is_wildcard(const ChannelAddress& address);

// The UDP endpoint, zone resolved to a scope id. Link-local IPv6 without a zone is refused (ambiguous).
Result<boost::asio::ip::udp::endpoint> resolve_channel_address(const ChannelAddress& address);

}  // namespace sixgate::channel
