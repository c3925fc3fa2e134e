#include "proxy/config_values.hpp"

#include <algorithm>

#include "proxy/config.hpp"

namespace sixgate::proxy {

Result<bool> parse_bool(std::string_view text, std::string_view what) {
  if (text == "true" || text == "1" || text.empty()) return true;
  if (text == "false" || text == "0") return false;
  return make_error(std::string(what) + ": '" + log::bounded(text, 40) + "' is not true or false");
}

Result<ListenSpec> parse_listen(std::string_view text) {
  ListenSpec s;
  s.text = std::string(text);
  auto bad = [&](const std::string& why) {
    return make_error("'" + log::bounded(text, 80) + "': " + why + " (want tcp:PORT, tcp:ADDR:PORT or fd:N)");
  };
  if (text.starts_with("fd:")) {
    auto n = parse_uint<int>(text.substr(3), "fd", 0, 1 << 20);
    if (!n) return bad("bad descriptor number");
    s.kind = ListenSpec::Kind::fd;
    s.fd = *n;
    return s;
  }
  if (!text.starts_with("tcp:")) return bad("unknown kind");
  std::string_view rest = text.substr(4);
  std::string_view port_text = rest;
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    std::string_view host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
    if (host.find(':') != std::string_view::npos) {
      if (!Ipv6Address::parse(host)) return bad("bad IPv6 address");
    } else if (!host.empty()) {
      if (!Ipv4Address::parse(host)) return bad("bad IPv4 address");
    }
    s.address = std::string(host);
  }
  auto port = parse_uint<std::uint16_t>(port_text, "port", 1, 65535);
  if (!port) return bad("bad port");
  s.port = *port;
  return s;
}

std::string ResolverAddress::to_ares() const {
  return v6 ? "[" + host + "]:" + std::to_string(port) : host + ":" + std::to_string(port);
}

Result<ResolverAddress> parse_resolver(std::string_view text) {
  ResolverAddress r;
  auto bad = [&](const std::string& why) {
    return make_error("'" + log::bounded(text, 80) + "': " + why + " (want IP, IP:PORT or [IPv6]:PORT)");
  };
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ]");
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':')) return bad("junk after ]");
      port = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.find(':') != std::string_view::npos) {
    if (!Ipv6Address::parse(host)) return bad("bad IPv6 address");
    r.v6 = true;
  } else if (!Ipv4Address::parse(host)) {
    return bad("bad IPv4 address");
  }
  r.host = std::string(host);
  if (port) {
    auto p = parse_uint<std::uint16_t>(*port, "port", 1, 65535);
    if (!p) return bad("bad port");
    r.port = *p;
  }
  return r;
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  using namespace std::chrono;
  if (text == "off") return milliseconds(0);
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data())
    return make_error("'" + log::bounded(text, 40) + "' is not a duration (e.g. 10s, 500ms, 2m)");
  std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "ms")
    factor = 1;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else
    return make_error("'" + log::bounded(text, 40) + "': unknown unit (want ms, s, m or h)");
  if (n > 24ull * 3'600'000 / factor)
    return make_error("'" + log::bounded(text, 40) + "' is longer than a day");
  return milliseconds(static_cast<std::int64_t>(n * factor));
}

bool same_resolvers(const std::vector<ResolverAddress>& a, const std::vector<ResolverAddress>& b) {
  return std::ranges::equal(a, b, {}, &ResolverAddress::to_ares, &ResolverAddress::to_ares);
}

}  // namespace sixgate::proxy
