#pragma once
// One client connection from accept to close: sniff, read the hello (or SSLRequest + hello, or HTTP head),
// decide the backend, connect from the NAT46 source, replay the buffered bytes, relay. See connection.cpp.
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/core/client_hello.hpp"
#include "proxy/core/http_host.hpp"
#include "proxy/core/sniff.hpp"
#include "proxy/hello_buffer.hpp"
#include "proxy/live_connections.hpp"
#include "proxy/relay.hpp"
#include "proxy/resolver.hpp"
#include "proxy/sockets.hpp"
#include "proxy/worker_context.hpp"

namespace sixgate::proxy {

// What the connection's access-log line needs. It outlives the Connection once the relay has taken over (an
// idle relayed connection then costs the Relay and this record only), and it holds the connection's place in
// `active` until it is destroyed.
struct AccessRecord {
  AccessRecord(std::atomic<std::size_t>& a, ConnectionTally& t, std::string listener_text);
  ~AccessRecord();
  AccessRecord(const AccessRecord&) = delete;
  AccessRecord& operator=(const AccessRecord&) = delete;
  void log(std::string_view outcome, std::string_view reason, const RelayResult& relayed) const;

  std::atomic<std::size_t>* active;
  ConnectionTally* tally;  // counts the connection when its line is logged
  ClientCounts::Slot counted;
  std::chrono::steady_clock::time_point started;
  std::string client, listener, sni, backend = "-", src = "-";
  Protocol proto = Protocol::need_more;
  std::uint64_t replayed = 0;  // client bytes sent to the backend before the relay started
};

// Its sockets wait in the worker's ReadinessPoller from accept and from connect on, and go to the Relay
// without leaving it.
class Connection : public std::enable_shared_from_this<Connection>,
                   public Stoppable,
                   public ReadinessPoller::Listener {
 public:
  // `client_fd`: the accepted non-blocking socket, owned from here on. `ctx.active` has already been
  // incremented for this connection; the AccessRecord gives the place back. `peer` as accept() reported it;
  // `listen_port` is the listener's port (the default backend port).
  // `counted`: this connection's place in the per-client count, given back with the AccessRecord.
  Connection(WorkerContext& ctx, int client_fd, const sockaddr_storage& peer, const std::string& listener,
             std::uint16_t listen_port, ClientCounts::Slot counted);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  void start();
  void stop(std::string_view reason) override;
  void on_ready(std::uint32_t tag, std::uint32_t events) override;

 private:
  enum class Alert { none, unrecognized_name, internal_error };
  // What the deadline timer guards: the hello (--hello-timeout), then, from the DNS answer until the relay
  // starts, the backend (--connect-timeout: connect attempts, the SSLRequest answer, the replay).
  enum class Phase { hello, resolving, connecting, backend_setup, over };
  // Within backend_setup: a PostgreSQL backend's answer to the SSLRequest, then the replay.
  enum class Setup { ssl_answer, replay };
  using TimePoint = std::chrono::steady_clock::time_point;
  // One of the connection's sockets and what its edges reported that no call has used up yet.
  struct Socket {
    int fd = -1;
    std::optional<ReadinessPoller::Token> token{};
    Readiness ready{};
  };

  bool done() const { return phase_ == Phase::over; }  // finished, or handed to the relay
  void read_hello();
  std::size_t hello_buffer_limit() const;
  bool take_hello_bytes();  // true: more bytes are needed
  void on_name_known(const std::optional<std::string>& raw_name);
  void on_lookup(const Lookup& lookup);
  void connect_unix();
  void begin_connecting();
  void connect_next();
  TimePoint attempt_deadline() const;
  void on_attempt_timeout();
  void on_connect_done();
  void on_backend_connected();
  void read_ssl_answer();
  void replay();
  void send_replay();
  void start_relay();
  void arm_deadline(TimePoint at);
  void cancel_deadline();
  void on_deadline();
  void close_socket(Socket& s);
  void close_backend();
  void refuse(std::string reason, Alert alert);
  void finish(std::string outcome, std::string reason);

  WorkerContext& ctx_;
  std::shared_ptr<const RuntimeConfig> runtime_;
  std::shared_ptr<Resolver> resolver_;
  Socket client_;
  Socket backend_;
  std::shared_ptr<AccessRecord> record_;
  sockaddr_storage peer_{};
  std::uint16_t listen_port_;
  LiveConnections::Slot slot_ = 0;  // this connection's place in ctx_.live (handed to the relay)

  Phase phase_ = Phase::hello;
  Setup setup_ = Setup::replay;
  LoopTimer timer_;
  TimePoint connect_deadline_{};

  HelloBuffer buffer_;           // every byte read from the client before the relay, replayed unchanged
  std::size_t parsed_ = 0;       // bytes of buffer_ fed to the parser
  std::size_t replay_from_ = 0;  // 8 after a PostgreSQL SSLRequest (answered by us), else 0
  std::vector<std::uint8_t> proxy_header_;  // PROXY v2, sent before the replay
  std::size_t replay_sent_ = 0;             // of proxy_header_ + the replayed bytes
  Protocol protocol_ = Protocol::need_more;
  std::optional<ClientHelloParser> hello_;
  std::optional<HttpHostParser> http_;

  std::string name_;  // canonical
  std::vector<Endpoint> candidates_;
  std::size_t next_candidate_ = 0;
  std::optional<Ipv6Address> source_;
  std::string last_connect_error_;
};

}  // namespace sixgate::proxy
