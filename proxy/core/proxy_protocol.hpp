#pragma once
// PROXY protocol version 2 header (haproxy's proxy-protocol.txt, section 2.2), command PROXY, TCP.
#include <sys/socket.h>

#include <cstdint>
#include <vector>

namespace sixgate::proxy {

inline constexpr std::uint8_t kProxyV2Signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// `client` is the source, `local` the destination the client connected to (AF_INET or AF_INET6).
// Both IPv4 (or IPv4-mapped IPv6) → family 0x11 (TCP over IPv4), 12 address bytes. Otherwise, both IP →
// family 0x21 (TCP over IPv6), 36 address bytes, an IPv4 side written as ::ffff:a.b.c.d. Any other family →
// family 0x00 (UNSPEC) with no address block, which tells the receiver to use the real connection endpoints.
std::vector<std::uint8_t> proxy_v2_header(const sockaddr_storage& client, const sockaddr_storage& local);

}  // namespace sixgate::proxy
