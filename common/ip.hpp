#pragma once
// IPv4/IPv6 addresses and prefixes as values: parsing (strict), RFC 5952 formatting, containment, and the
// NAT46 embedding of an IPv4 address into a /96.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

struct sockaddr_in6;

namespace sixgate {

class Ipv4Address {
 public:
  using Bytes = std::array<std::uint8_t, 4>;
  constexpr Ipv4Address() = default;
  constexpr explicit Ipv4Address(Bytes b) : bytes_(b) {}
  static Ipv4Address from_uint(std::uint32_t host_order);
  static Result<Ipv4Address> parse(std::string_view text);

  const Bytes& bytes() const { return bytes_; }
  std::uint32_t to_uint() const;  // host byte order
  std::string to_string() const;

  auto operator<=>(const Ipv4Address&) const = default;

 private:
  Bytes bytes_{};
};

class Ipv6Address {
 public:
  using Bytes = std::array<std::uint8_t, 16>;
  constexpr Ipv6Address() = default;
  constexpr explicit Ipv6Address(Bytes b) : bytes_(b) {}
  static Result<Ipv6Address> parse(std::string_view text);
  static Ipv6Address v4_mapped(Ipv4Address v4);
  static Ipv6Address from_sockaddr(const sockaddr_in6& sa);

  const Bytes& bytes() const { return bytes_; }
  std::string to_string() const;  // RFC 5952 canonical form

  bool is_unspecified() const;
  bool is_loopback() const;
  bool is_link_local() const;  // fe80::/10
  bool is_multicast() const;   // ff00::/8
  bool is_v4_mapped() const;   // ::ffff:0:0/96
  std::optional<Ipv4Address> to_v4_mapped() const;

  auto operator<=>(const Ipv6Address&) const = default;

 private:
  Bytes bytes_{};
};

// A network prefix. Host bits are always zero: parsing and construction mask them (as `ip route` does).
template <class Address>
class Prefix {
 public:
  static constexpr unsigned max_length = sizeof(typename Address::Bytes) * 8;

  Prefix() = default;
  // Masks host bits. `length` <= max_length is the caller's promise (a larger one is clamped to max_length);
  // for a length from outside the program (a netlink message, a peer) use make(), which refuses it.
  Prefix(Address address, unsigned length);
  static Result<Prefix> make(Address address, unsigned length);
  // "addr/len"; a bare address is accepted only when `allow_bare_address` (then it is a host prefix).
  static Result<Prefix> parse(std::string_view text, bool allow_bare_address = false);

  const Address& network() const { return network_; }
  unsigned length() const { return length_; }
  bool contains(const Address& a) const;
  bool contains(const Prefix& other) const;  // other is equal to or inside this one
  bool overlaps(const Prefix& other) const;
  std::string to_string() const;

  auto operator<=>(const Prefix&) const = default;

 private:
  Address network_{};
  unsigned length_ = 0;
};

using Ipv4Prefix = Prefix<Ipv4Address>;
using Ipv6Prefix = Prefix<Ipv6Address>;

// The NAT46 source address: the /96 prefix's first 96 bits followed by the client's IPv4 address.
Result<Ipv6Address> embed_ipv4(const Ipv6Prefix& prefix96, Ipv4Address client);

// An IPv6 address with an optional zone (interface name), as in "fe80::1%wg0".
struct ScopedIpv6Address {
  Ipv6Address address;
  std::string zone;
  static Result<ScopedIpv6Address> parse(std::string_view text);
  std::string to_string() const;
};

}  // namespace sixgate
