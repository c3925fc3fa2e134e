#pragma once
// Socket plumbing for the proxy: listeners (SO_REUSEPORT per worker, or an inherited descriptor), outgoing
// connections from a chosen (NAT46) source, and address helpers.
#include <sys/socket.h>

#include <optional>
#include <string>

#include "common/ip.hpp"
#include "common/result.hpp"
#include "proxy/config.hpp"

namespace sixgate::proxy {

// A listening, non-blocking socket for `spec`. tcp: a new socket with SO_REUSEPORT (so every worker binds its
// own and the kernel spreads connections); an empty address means [::] dual-stack. fd: dup() of the inherited
// descriptor, so each worker owns (and closes) its own copy of the one shared listening socket. The
// listener gets TCP_NODELAY and the dead-peer timers, which Linux copies to every socket it accepts.
Result<int> open_listener(const ListenSpec& spec, const DeadPeerTimers& timers);

// Sets TCP keepalive on with its times or off (nullopt), and TCP_USER_TIMEOUT (0: off). On a listener it
// applies to the connections accepted from then on. The error names the option that failed.
Status set_dead_peer_timers(int fd, const DeadPeerTimers& timers);

// The IPv4 address of a client that connected over IPv4, also when it arrived as ::ffff:a.b.c.d on a
// dual-stack socket; nullopt for a real IPv6 client.
std::optional<Ipv4Address> client_ipv4(const sockaddr_storage& peer);

// "192.0.2.2:40000" / "[2001:db8::1]:443" / "unix:/path".
std::string to_string(const sockaddr_storage& sa);
std::uint16_t port_of(const sockaddr_storage& sa);

struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
};
Endpoint endpoint(const Ipv6Address& a, std::uint16_t port);
Endpoint endpoint(const Ipv4Address& a, std::uint16_t port);
Result<Endpoint> unix_endpoint(const std::string& path);

// A non-blocking socket for `to` with connect(2) started (done, or EINPROGRESS); over TCP its handshake's
// last ACK waits for the first bytes sent (TCP_QUICKACK off). With `source`, it is bound to that address
// first: IPV6_FREEBIND lets it bind an address that is only routed locally (the NAT46 /96 on lo, no
// capability needed), IP_BIND_ADDRESS_NO_PORT defers the port choice to connect() so the 4-tuple, not the
// source port alone, must be unique: thousands of connections from one client IPv4 work. Over TCP,
// the dead-peer timers that are on are set before connect().
Result<int> start_connect(const Endpoint& to, const std::optional<Ipv6Address>& source,
                          const DeadPeerTimers& timers);

// The connection's ACKs wait (up to the kernel's delayed-ACK time, ~40 ms) for data going back instead of
// leaving at once (TCP_QUICKACK off): what a client sends here is answered (the backend's ServerHello, the
// 'S' to an SSLRequest), so the ACK rides on the answer, one packet fewer each time. Linux does not copy the
// mode from a listener to its accepted sockets, hence once per connection. The kernel leaves the mode by
// itself when a delayed ACK finds nothing to ride on. False when the option cannot be set (not TCP): then
// ACKs just leave at once, as before.
bool delay_acks_until_reply(int fd);

// The pending error of a socket whose connect() finished (0 = connected).
int connect_result(int fd);

}  // namespace sixgate::proxy
