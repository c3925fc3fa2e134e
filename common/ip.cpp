#include "common/ip.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sixgate {
namespace {

std::string quoted(std::string_view text) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "'";
  for (char c : text.substr(0, kMaxShown)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\'' || c == '\\') {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

// inet_pton needs a NUL-terminated string; longer text than any address cannot be one.
template <int Family, std::size_t N>
bool pton(std::string_view text, std::array<std::uint8_t, N>& out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf) return false;
  if (text.find('\0') != std::string_view::npos) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(Family, buf, out.data()) == 1;
}

template <class Address>
constexpr const char* family_name() {
  return sizeof(typename Address::Bytes) == 4 ? "IPv4" : "IPv6";
}

}  // namespace

// ---- IPv4 ----

Ipv4Address Ipv4Address::from_uint(std::uint32_t v) {
  return Ipv4Address(Bytes{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                           static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

std::uint32_t Ipv4Address::to_uint() const {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | std::uint32_t{bytes_[3]};
}

Result<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  Bytes b{};
  if (!pton<AF_INET>(text, b)) return make_error("not an IPv4 address: " + quoted(text));
  return Ipv4Address(b);
}

std::string Ipv4Address::to_string() const {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    if (i) s += '.';
    s += std::to_string(bytes_[i]);
  }
  return s;
}

// ---- IPv6 ----

Result<Ipv6Address> Ipv6Address::parse(std::string_view text) {
  Bytes b{};
  if (!pton<AF_INET6>(text, b)) return make_error("not an IPv6 address: " + quoted(text));
  return Ipv6Address(b);
}

Ipv6Address Ipv6Address::v4_mapped(Ipv4Address v4) {
  Bytes b{};
  b[10] = b[11] = 0xff;
  std::copy(v4.bytes().begin(), v4.bytes().end(), b.begin() + 12);
  return Ipv6Address(b);
}

Ipv6Address Ipv6Address::from_sockaddr(const sockaddr_in6& sa) {
  Bytes b{};
  std::memcpy(b.data(), &sa.sin6_addr, 16);
  return Ipv6Address(b);
}

std::string Ipv6Address::to_string() const {
  if (is_v4_mapped()) return "::ffff:" + to_v4_mapped()->to_string();  // RFC 5952 section 5

  std::array<unsigned, 8> groups{};
  for (int i = 0; i < 8; ++i) groups[i] = (unsigned{bytes_[2 * i]} << 8) | bytes_[2 * i + 1];

  // Longest run of zero groups, at least two long, first one on a tie (RFC 5952 section 4.2).
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len) best_start = i, best_len = j - i;
    i = j;
  }
  if (best_len < 2) best_start = -1;

  std::string out;
  char buf[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, groups[i], 16);
    out.append(buf, end);
  }
  return out;
}

bool Ipv6Address::is_unspecified() const {
  return *this == Ipv6Address{};
}
bool Ipv6Address::is_loopback() const {
  Bytes lo{};
  lo[15] = 1;
  return bytes_ == lo;
}
bool Ipv6Address::is_link_local() const {
  return bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
}
bool Ipv6Address::is_multicast() const {
  return bytes_[0] == 0xff;
}
bool Ipv6Address::is_v4_mapped() const {
  return std::all_of(bytes_.begin(), bytes_.begin() + 10, [](auto b) { return b == 0; }) &&
         bytes_[10] == 0xff && bytes_[11] == 0xff;
}
std::optional<Ipv4Address> Ipv6Address::to_v4_mapped() const {
  if (!is_v4_mapped()) return std::nullopt;
  return Ipv4Address(Ipv4Address::Bytes{bytes_[12], bytes_[13], bytes_[14], bytes_[15]});
}

// ---- Prefix ----

template <class Address>
Prefix<Address>::Prefix(Address address, unsigned length) : length_(std::min(length, max_length)) {
  auto b = address.bytes();
  for (unsigned i = 0; i < b.size(); ++i) {
    unsigned first_bit = i * 8;
    if (first_bit >= length_) {
      b[i] = 0;
    } else if (first_bit + 8 > length_) {
      b[i] &= static_cast<std::uint8_t>(0xff << (8 - (length_ - first_bit)));
    }
  }
  network_ = Address(b);
}

template <class Address>
Result<Prefix<Address>> Prefix<Address>::parse(std::string_view text, bool allow_bare_address) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    if (!allow_bare_address)
      return make_error(std::string("not an ") + family_name<Address>() +
                        " prefix (want address/length): " + quoted(text));
    auto a = Address::parse(text);
    if (!a) return a.error();
    return Prefix(*a, max_length);
  }
  auto addr = Address::parse(text.substr(0, slash));
  if (!addr)
    return make_error(std::string("bad ") + family_name<Address>() + " prefix " + quoted(text) + ": " +
                      addr.error().message);
  auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc{} || ptr != len_text.data() + len_text.size() ||
      (len_text.size() > 1 && len_text[0] == '0'))
    return make_error(std::string("bad ") + family_name<Address>() + " prefix length in " + quoted(text));
  if (len > max_length)
    return make_error(std::string("bad ") + family_name<Address>() + " prefix " + quoted(text) +
                      ": length must be 0.." + std::to_string(max_length));
  return Prefix(*addr, len);
}

template <class Address>
Result<Prefix<Address>> Prefix<Address>::make(Address address, unsigned length) {
  if (length > max_length)
    return make_error(std::string("bad ") + family_name<Address>() + " prefix length " +
                      std::to_string(length) + ": must be 0.." + std::to_string(max_length));
  return Prefix(address, length);
}

template <class Address>
bool Prefix<Address>::contains(const Address& a) const {
  return Prefix(a, length_).network_ == network_;
}

template <class Address>
bool Prefix<Address>::contains(const Prefix& other) const {
  return other.length_ >= length_ && contains(other.network_);
}

template <class Address>
bool Prefix<Address>::overlaps(const Prefix& other) const {
  return contains(other) || other.contains(*this);
}

template <class Address>
std::string Prefix<Address>::to_string() const {
  return network_.to_string() + "/" + std::to_string(length_);
}

template class Prefix<Ipv4Address>;
template class Prefix<Ipv6Address>;

Result<Ipv6Address> embed_ipv4(const Ipv6Prefix& prefix96, Ipv4Address client) {
  if (prefix96.length() != 96) return make_error("NAT46 prefix must be a /96, got " + prefix96.to_string());
  auto b = prefix96.network().bytes();
  std::copy(client.bytes().begin(), client.bytes().end(), b.begin() + 12);
  return Ipv6Address(b);
}

// ---- scoped ----

Result<ScopedIpv6Address> ScopedIpv6Address::parse(std::string_view text) {
  auto pct = text.find('%');
  auto addr = Ipv6Address::parse(text.substr(0, pct));
  if (!addr) return addr.error();
  ScopedIpv6Address out{*addr, {}};
  if (pct != std::string_view::npos) {
    auto zone = text.substr(pct + 1);
    if (zone.empty() || zone.size() > 15 || zone.find_first_of("/% \t\n") != std::string_view::npos)
      return make_error("bad zone (interface name) in " + quoted(text));
    out.zone = std::string(zone);
  }
  return out;
}

std::string ScopedIpv6Address::to_string() const {
  return zone.empty() ? address.to_string() : address.to_string() + "%" + zone;
}

}  // namespace sixgate
