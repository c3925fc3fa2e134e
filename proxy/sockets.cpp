#include "proxy/sockets.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sixgate::proxy {
namespace {

Error sys_error(const std::string& what) {
  return make_error(what + ": " + std::strerror(errno));
}

// Sets the options of a new socket in order. Returns the name of the first that fails (errno says why), or
// nullptr; the caller builds its error text only then.
struct IntOption {
  int level, name, value;
  const char* text;
};
const char* failing_option(int fd, std::initializer_list<IntOption> options) {
  for (const auto& o : options)
    if (::setsockopt(fd, o.level, o.name, &o.value, sizeof o.value) != 0) return o.text;
  return nullptr;
}

Result<int> close_with(int fd, Error e) {
  ::close(fd);
  return e;
}

// `new_socket`: the socket still has the kernel's defaults (both off), so only timers that are on are set.
const char* failing_dead_peer_option(int fd, const DeadPeerTimers& t, bool new_socket) {
  const char* bad = nullptr;
  if (const auto& k = t.keepalive)
    bad = failing_option(
        fd, {{SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE"},
             {IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(k->idle.count()), "TCP_KEEPIDLE"},
             {IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(k->interval.count()), "TCP_KEEPINTVL"},
             {IPPROTO_TCP, TCP_KEEPCNT, k->probes, "TCP_KEEPCNT"}});
  else if (!new_socket)
    bad = failing_option(fd, {{SOL_SOCKET, SO_KEEPALIVE, 0, "SO_KEEPALIVE"}});
  if (!bad && (t.user_timeout.count() != 0 || !new_socket))
    bad = failing_option(
        fd, {{IPPROTO_TCP, TCP_USER_TIMEOUT, static_cast<int>(t.user_timeout.count()), "TCP_USER_TIMEOUT"}});
  return bad;
}

}  // namespace

Status set_dead_peer_timers(int fd, const DeadPeerTimers& timers) {
  if (const char* bad = failing_dead_peer_option(fd, timers, false)) return sys_error(bad);
  return ok_status();
}

Result<int> open_listener(const ListenSpec& spec, const DeadPeerTimers& timers) {
  if (spec.kind == ListenSpec::Kind::fd) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(spec.fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
      return sys_error("-listen " + spec.text + ": not an inherited socket");
    int acc = 0;
    len = sizeof acc;
    if (type != SOCK_STREAM || ::getsockopt(spec.fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 || !acc)
      return make_error("-listen " + spec.text + ": descriptor is not a listening stream socket");
    int fd = ::fcntl(spec.fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return sys_error("-listen " + spec.text + ": dup");
    // The flag belongs to the shared file description: every worker's accept() must not block when another
    // worker took the connection.
    if (const int flags = ::fcntl(fd, F_GETFL); flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
      return close_with(fd, sys_error("-listen " + spec.text + ": O_NONBLOCK"));
    int domain = 0;
    len = sizeof domain;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
      return close_with(fd, sys_error("-listen " + spec.text + ": SO_DOMAIN"));
    if (domain == AF_INET || domain == AF_INET6) {
      const char* bad = failing_option(fd, {{IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"}});
      if (!bad) bad = failing_dead_peer_option(fd, timers, false);
      if (bad) return close_with(fd, sys_error("-listen " + spec.text + ": " + bad));
    }
    return fd;
  }
  bool v6 = spec.address.empty() || spec.address.find(':') != std::string::npos;
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 && errno == EAFNOSUPPORT && spec.address.empty()) {  // kernel without IPv6: 0.0.0.0 then
    v6 = false;
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) return sys_error("-listen " + spec.text + ": socket");
  // SO_REUSEPORT: every worker binds its own socket and the kernel spreads connections. TCP_NODELAY is
  // inherited by every accepted socket (small TLS flights must not wait behind Nagle on their way back to the
  // client), which saves a setsockopt per connection; so are the dead-peer timers (four or five more). No
  // TCP_DEFER_ACCEPT: it saves a wake-up per connection but moves the accept onto the path from the client's
  // hello to our SYN to the backend (148 µs there with it, 88 µs without, in the bench harness;
  // proxy/README.md).
  const char* bad = failing_option(fd, {{SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"},
                                        {SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"},
                                        {IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"}});
  if (!bad && v6) bad = failing_option(fd, {{IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY=0 (dual-stack)"}});
  if (!bad) bad = failing_dead_peer_option(fd, timers, false);
  if (bad) return close_with(fd, sys_error("-listen " + spec.text + ": " + bad));
  sockaddr_storage ss{};
  socklen_t sl = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(spec.port);
    if (!spec.address.empty()) ::inet_pton(AF_INET6, spec.address.c_str(), &a->sin6_addr);
    sl = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(spec.port);
    if (!spec.address.empty()) ::inet_pton(AF_INET, spec.address.c_str(), &a->sin_addr);
    sl = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), sl) != 0)
    return close_with(fd, sys_error("-listen " + spec.text + ": bind"));
  if (::listen(fd, 4096) != 0) return close_with(fd, sys_error("-listen " + spec.text + ": listen"));
  return fd;
}

std::optional<Ipv4Address> client_ipv4(const sockaddr_storage& peer) {
  if (peer.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&peer);
    return Ipv4Address::from_uint(ntohl(a->sin_addr.s_addr));
  }
  if (peer.ss_family == AF_INET6)
    return Ipv6Address::from_sockaddr(*reinterpret_cast<const sockaddr_in6*>(&peer)).to_v4_mapped();
  return std::nullopt;
}

std::uint16_t port_of(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&sa)->sin_port);
  if (sa.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&sa)->sin6_port);
  return 0;
}

std::string to_string(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&sa);
    return Ipv4Address::from_uint(ntohl(a->sin_addr.s_addr)).to_string() + ":" + std::to_string(port_of(sa));
  }
  if (sa.ss_family == AF_INET6) {
    auto a = Ipv6Address::from_sockaddr(*reinterpret_cast<const sockaddr_in6*>(&sa));
    if (auto v4 = a.to_v4_mapped()) return v4->to_string() + ":" + std::to_string(port_of(sa));
    return "[" + a.to_string() + "]:" + std::to_string(port_of(sa));
  }
  if (sa.ss_family == AF_UNIX) {
    const auto* a = reinterpret_cast<const sockaddr_un*>(&sa);
    return std::string("unix:") + std::string(a->sun_path, ::strnlen(a->sun_path, sizeof a->sun_path));
  }
  return "-";
}

Endpoint endpoint(const Ipv6Address& a, std::uint16_t port) {
  Endpoint e;
  auto* s = reinterpret_cast<sockaddr_in6*>(&e.address);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  std::memcpy(&s->sin6_addr, a.bytes().data(), 16);
  e.length = sizeof *s;
  return e;
}

Endpoint endpoint(const Ipv4Address& a, std::uint16_t port) {
  Endpoint e;
  auto* s = reinterpret_cast<sockaddr_in*>(&e.address);
  s->sin_family = AF_INET;
  s->sin_port = htons(port);
  s->sin_addr.s_addr = htonl(a.to_uint());
  e.length = sizeof *s;
  return e;
}

Result<Endpoint> unix_endpoint(const std::string& path) {
  Endpoint e;
  auto* s = reinterpret_cast<sockaddr_un*>(&e.address);
  if (path.size() >= sizeof s->sun_path) return make_error("socket path too long: " + path);
  s->sun_family = AF_UNIX;
  std::memcpy(s->sun_path, path.data(), path.size());
  e.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return e;
}

Result<int> start_connect(const Endpoint& to, const std::optional<Ipv6Address>& source,
                          const DeadPeerTimers& timers) {
  int family = to.address.ss_family;
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return sys_error("socket");
  if (family != AF_UNIX) {
    const char* bad = failing_option(fd, {{IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"}});
    if (!bad) bad = failing_dead_peer_option(fd, timers, true);
    if (bad) return close_with(fd, sys_error(bad));
    // Before connect: the handshake's last ACK then rides on the first bytes we send, which always follow
    // at once (the replayed hello, an SSLRequest or a PROXY header). Best effort, as it only saves a packet.
    delay_acks_until_reply(fd);
  }
  if (source) {
    // Without FREEBIND the bind below fails unless the /96 is routed to lo; without BIND_ADDRESS_NO_PORT
    // every connection from one client would need its own source port. Either missing is an error.
    if (const char* bad =
            failing_option(fd, {{IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND"},
                                {IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, "IP_BIND_ADDRESS_NO_PORT"}}))
      return close_with(fd, sys_error("NAT46 source " + source->to_string() + ": " + bad));
    auto src = endpoint(*source, 0);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&src.address), src.length) != 0)
      return close_with(fd, sys_error("bind " + source->to_string()));
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to.address), to.length) != 0 && errno != EINPROGRESS)
    return close_with(fd, sys_error("connect"));
  return fd;
}

bool delay_acks_until_reply(int fd) {
  const int off = 0;
  return ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) == 0;
}

int connect_result(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

}  // namespace sixgate::proxy
