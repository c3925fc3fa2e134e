#include "proxy/core/proxy_protocol.hpp"

#include <netinet/in.h>

#include <array>
#include <cstring>
#include <optional>

namespace sixgate::proxy {
namespace {

constexpr std::uint8_t kVersion2Proxy = 0x21;
constexpr std::uint8_t kTcpOverIpv4 = 0x11;
constexpr std::uint8_t kTcpOverIpv6 = 0x21;
constexpr std::uint8_t kUnspec = 0x00;

struct Endpoint {
  std::array<std::uint8_t, 16> v6{};  // IPv4 as ::ffff:a.b.c.d
  std::uint16_t port_network_order = 0;
  bool is_v4 = false;  // AF_INET, or AF_INET6 holding an IPv4-mapped address
};

std::optional<Endpoint> endpoint(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    sockaddr_in sa;
    std::memcpy(&sa, &ss, sizeof sa);
    e.v6[10] = 0xff;
    e.v6[11] = 0xff;
    std::memcpy(e.v6.data() + 12, &sa.sin_addr, 4);
    e.port_network_order = sa.sin_port;
    e.is_v4 = true;
    return e;
  }
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 sa;
    std::memcpy(&sa, &ss, sizeof sa);
    std::memcpy(e.v6.data(), &sa.sin6_addr, 16);
    e.port_network_order = sa.sin6_port;
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    e.is_v4 = std::memcmp(e.v6.data(), mapped, sizeof mapped) == 0;
    return e;
  }
  return std::nullopt;
}

void append(std::vector<std::uint8_t>& out, const std::uint8_t* p, std::size_t n) {
  out.insert(out.end(), p, p + n);
}

}  // namespace

std::vector<std::uint8_t> proxy_v2_header(const sockaddr_storage& client, const sockaddr_storage& local) {
  std::vector<std::uint8_t> out(std::begin(kProxyV2Signature), std::end(kProxyV2Signature));
  out.push_back(kVersion2Proxy);
  const auto src = endpoint(client);
  const auto dst = endpoint(local);
  if (!src || !dst) {
    out.insert(out.end(), {kUnspec, 0, 0});
    return out;
  }
  const bool v4 = src->is_v4 && dst->is_v4;
  const std::size_t address_bytes = v4 ? 4 : 16;
  const std::size_t offset = v4 ? 12 : 0;
  const std::size_t length = 2 * address_bytes + 4;
  out.push_back(v4 ? kTcpOverIpv4 : kTcpOverIpv6);
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length & 0xff));
  append(out, src->v6.data() + offset, address_bytes);
  append(out, dst->v6.data() + offset, address_bytes);
  append(out, reinterpret_cast<const std::uint8_t*>(&src->port_network_order), 2);
  append(out, reinterpret_cast<const std::uint8_t*>(&dst->port_network_order), 2);
  return out;
}

}  // namespace sixgate::proxy
