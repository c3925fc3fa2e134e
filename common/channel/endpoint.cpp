#include "common/channel/endpoint.hpp"

#include <net/if.h>

#include <charconv>

#include "common/ip.hpp"

namespace sixgate::channel {

Result<ChannelAddress> parse_channel_address(std::string_view text) {
  const std::string where = "channel address \"" + std::string(text) + "\": ";
  ChannelAddress out;
  out.text = std::string(text);
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_error(where + "expected [ADDRESS]:PORT");
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    auto scoped = ScopedIpv6Address::parse(out.host);
    if (!scoped) return make_error(where + scoped.error().message);
    if (scoped->address.is_link_local() && scoped->zone.empty())
      return make_error(where + "a link-local address needs a zone, e.g. [fe80::1%wg0]:7443");
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return make_error(where + "expected ADDRESS:PORT");
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    auto v4 = Ipv4Address::parse(out.host);
    if (!v4) return make_error(where + "IPv6 addresses need brackets: [ADDRESS]:PORT");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return make_error(where + "bad port");
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

bool is_wildcard(const ChannelAddress& address) {
  if (auto v4 = Ipv4Address::parse(address.host); v4) return v4->to_uint() == 0;
  auto scoped = ScopedIpv6Address::parse(address.host);
  return scoped && scoped->address.is_unspecified();
}

Result<boost::asio::ip::udp::endpoint> resolve_channel_address(const ChannelAddress& address) {
  namespace ip = boost::asio::ip;
  const std::string where = "channel address " + address.text + ": ";
  if (address.host.find(':') == std::string::npos) {
    auto v4 = Ipv4Address::parse(address.host);
    if (!v4) return make_error(where + v4.error().message);
    return ip::udp::endpoint(ip::address_v4(v4->to_uint()), address.port);
  }
  auto scoped = ScopedIpv6Address::parse(address.host);
  if (!scoped) return make_error(where + scoped.error().message);
  unsigned long scope = 0;
  if (!scoped->zone.empty()) {
    scope = ::if_nametoindex(scoped->zone.c_str());
    if (scope == 0) return make_error(where + "no interface named " + scoped->zone);
  }
  ip::address_v6::bytes_type bytes;
  std::copy(scoped->address.bytes().begin(), scoped->address.bytes().end(), bytes.begin());
  return ip::udp::endpoint(ip::address_v6(bytes, scope), address.port);
}

}  // namespace sixgate::channel
