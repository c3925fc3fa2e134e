// One client connection, top to bottom:
//   accept -> sniff the first bytes
//     tls:      read the ClientHello
//     postgres: answer the SSLRequest with 'S', then read the ClientHello
//     http:     read the request head up to the Host header
//   -> canonical name (SNI / Host, or -default-hostname when the hello has none)
//   -> resolve (AAAA; A too in tcp mode) -> keep the addresses the backend policy allows
//   -> connect to each in order, from <nat46 /96>::<client IPv4> in nat46 mode; each attempt gets an equal
//      share of what is left of the connect timeout
//   -> postgres: SSLRequest to the backend, which must answer 'S'
//   -> [PROXY v2 header] + every buffered client byte, unchanged -> relay until both sides are done.
// The connect timeout runs from the DNS answer until the relay starts, so a backend that accepts and then
// stays silent ends too. Every end goes through finish() (or the relay's end), which writes the one
// access-log line.
#include "proxy/connection.hpp"

#include <unistd.h>

#include <sys/epoll.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/log.hpp"
#include "proxy/core/hostname.hpp"
#include "proxy/core/proxy_protocol.hpp"
#include "proxy/core/tls_alert.hpp"

namespace sixgate::proxy {

namespace {
constexpr std::uint32_t kClientTag = 0, kBackendTag = 1;
constexpr std::size_t kMaxHttpHead = 16384;
constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kRecordHeader = 5;
constexpr std::size_t kHandshakeHeader = 4;
}  // namespace

AccessRecord::AccessRecord(std::atomic<std::size_t>& a, ConnectionTally& t, std::string listener_text)
    : active(&a), tally(&t), started(std::chrono::steady_clock::now()), listener(std::move(listener_text)) {}

AccessRecord::~AccessRecord() {
  active->fetch_sub(1, std::memory_order_relaxed);
}

void AccessRecord::log(std::string_view outcome, std::string_view reason, const RelayResult& relayed) const {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  tally->add(outcome, reason, replayed + relayed.client_to_backend, relayed.backend_to_client);
  log::access("connection", {{"client", client},
                             {"listener", listener},
                             {"proto", to_string(proto)},
                             {"sni", sni.empty() ? std::string_view("-") : std::string_view(sni)},
                             {"backend", backend},
                             {"src", src},
                             {"up", replayed + relayed.client_to_backend},
                             {"down", relayed.backend_to_client},
                             {"ms", static_cast<std::int64_t>(ms.count())},
                             {"outcome", outcome},
                             {"reason", reason}});
}

Connection::Connection(WorkerContext& ctx, int client_fd, const sockaddr_storage& peer,
                       const std::string& listener, std::uint16_t listen_port, ClientCounts::Slot counted)
    : ctx_(ctx),
      runtime_(ctx.runtime),
      resolver_(ctx.resolver),
      client_{.fd = client_fd},
      record_(std::make_shared<AccessRecord>(ctx.active, ctx.tally, listener)),
      peer_(peer),
      listen_port_(listen_port),
      timer_(ctx.loop) {
  record_->counted = std::move(counted);
}

// Only when the worker goes away mid-connection (finish() and start_relay() leave nothing open otherwise);
// the poller, which held this connection, is going away too.
Connection::~Connection() {
  for (Socket* s : {&client_, &backend_})
    if (s->fd >= 0) ::close(s->fd);
}

void Connection::start() {
  slot_ = ctx_.live.add(weak_from_this());
  record_->client = to_string(peer_);
  const auto& cfg = runtime_->config;
  if (cfg.mode == Mode::nat46) {
    auto v4 = client_ipv4(peer_);
    if (!v4) return finish("refused", "client_not_ipv4");  // nothing to embed in the NAT46 source
    source_ = embed_ipv4(*cfg.nat46_prefix, *v4).value();
    record_->src = source_->to_string();
  }
  auto token = ctx_.loop.poller().watch(client_.fd, shared_from_this(), kClientTag);
  if (!token) return finish("refused", "client_error:" + token.error().message);
  client_.token = *token;
  // No read yet: the hello rarely comes with the handshake's last ACK, and joining reports the socket on the
  // loop's next epoll_wait, with its input if the hello is there by then.
  arm_deadline(std::chrono::steady_clock::now() + cfg.hello_timeout);
}

void Connection::on_ready(std::uint32_t tag, std::uint32_t events) {
  (tag == kClientTag ? client_ : backend_).ready.note(events);
  switch (phase_) {
    case Phase::hello:
      if (tag == kClientTag) read_hello();
      return;
    case Phase::connecting:
      if (tag == kBackendTag && backend_.ready.writable) on_connect_done();
      return;
    case Phase::backend_setup:
      if (tag != kBackendTag) return;
      if (setup_ == Setup::ssl_answer) return read_ssl_answer();
      return send_replay();
    case Phase::resolving:  // what the client sends meanwhile waits for the relay
    case Phase::over:
      return;
  }
}

void Connection::stop(std::string_view reason) {
  finish("stopped", std::string(reason));
}

void Connection::arm_deadline(TimePoint at) {
  timer_.arm(at, [self = shared_from_this()] {
    if (!self->done()) self->on_deadline();
  });
}

void Connection::cancel_deadline() {
  timer_.cancel();
}

void Connection::on_deadline() {
  switch (phase_) {
    case Phase::hello:
      return finish("refused", "hello_timeout");
    case Phase::connecting:
      return on_attempt_timeout();
    case Phase::backend_setup:
      return refuse("backend_timeout", Alert::internal_error);
    case Phase::resolving:
    case Phase::over:
      return;
  }
}

// A ClientHello of H bytes may legally come in records of one byte each (RFC 8446 §5.1 forbids only empty
// handshake records): 6 H bytes on the wire, all of which the parser accepts. The buffer takes that much and
// no more; an HTTP head gets one byte past its limit so that its parser gives the verdict.
std::size_t Connection::hello_buffer_limit() const {
  if (protocol_ == Protocol::http) return kMaxHttpHead + 1;
  const std::size_t max_handshake = runtime_->config.max_hello_bytes + kHandshakeHeader;
  return replay_from_ + max_handshake * (kRecordHeader + 1);
}

// Reads while the client has bytes and the parser wants more. A read shorter than asked took everything
// there was: the next segment raises a new edge. Not so once the peer has closed (its FIN may have come with
// the last bytes), so then the loop reads on until the call reports the end.
void Connection::read_hello() {
  while (phase_ == Phase::hello && client_.ready.readable) {
    const std::size_t limit = hello_buffer_limit();
    if (buffer_.size() >= limit) return refuse("hello_too_large", Alert::none);
    const std::size_t want = std::min(kReadChunk, limit - buffer_.size());
    auto room = buffer_.spare(want).first(want);
    const ssize_t n = ::recv(client_.fd, room.data(), room.size(), 0);
    if (n == 0) return finish("refused", "client_closed_in_hello");
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        client_.ready.readable = false;
        return;
      }
      return finish("refused", std::string("client_error:") + std::strerror(errno));
    }
    buffer_.commit(static_cast<std::size_t>(n));
    if (static_cast<std::size_t>(n) < want && !client_.ready.peer_closed) client_.ready.readable = false;
    if (!take_hello_bytes()) return;
  }
}

bool Connection::take_hello_bytes() {
  const auto& cfg = runtime_->config;
  if (protocol_ == Protocol::need_more) {
    protocol_ = record_->proto = sniff(buffer_.bytes());
    switch (protocol_) {
      case Protocol::need_more:
        return true;
      case Protocol::unknown:
        refuse("unknown_protocol", Alert::none);
        return false;
      case Protocol::tls:
        hello_.emplace(HelloLimits{cfg.max_hello_bytes + kHandshakeHeader});
        break;
      case Protocol::postgres_ssl_request: {
        replay_from_ = parsed_ = kPostgresSslRequest.size();
        hello_.emplace(HelloLimits{cfg.max_hello_bytes + kHandshakeHeader});
        static constexpr std::uint8_t kYes = 'S';
        // One byte into a fresh socket's send buffer: it fits, so a plain non-blocking send is enough.
        if (::send(client_.fd, &kYes, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
          finish("refused", "client_error:postgres_reply");
          return false;
        }
        break;
      }
      case Protocol::http:
        http_.emplace(kMaxHttpHead);
        break;
    }
  }
  if (parsed_ >= buffer_.size()) return true;
  auto fresh = buffer_.bytes().subspan(parsed_);
  parsed_ = buffer_.size();
  if (hello_) {
    switch (hello_->feed(fresh)) {
      case ClientHelloParser::State::need_more:
        return true;
      case ClientHelloParser::State::failed:
        refuse("bad_hello:" + std::string(hello_->failure_reason()), Alert::none);
        return false;
      case ClientHelloParser::State::done:
        on_name_known(hello_->server_name());
        return false;
    }
  } else {
    switch (http_->feed(fresh)) {
      case HttpHostParser::State::need_more:
        return true;
      case HttpHostParser::State::failed:
        refuse("bad_http:" + std::string(http_->failure_reason()), Alert::none);
        return false;
      case HttpHostParser::State::done:
        on_name_known(http_->host());
        return false;
    }
  }
  return false;  // unreachable: every state is handled above
}

void Connection::on_name_known(const std::optional<std::string>& raw_name) {
  phase_ = Phase::resolving;  // bounded by the resolver's own timeouts
  cancel_deadline();
  const auto& cfg = runtime_->config;
  if (!raw_name) {
    if (!cfg.default_hostname) return refuse("no_sni", Alert::unrecognized_name);
    name_ = *cfg.default_hostname;
  } else {
    auto canonical = canonical_hostname(*raw_name);
    if (!canonical) {
      record_->sni = log::bounded(*raw_name, 128);
      return refuse("bad_name", Alert::unrecognized_name);
    }
    name_ = std::move(*canonical);
  }
  record_->sni = name_;
  hello_.reset();
  http_.reset();
  if (cfg.mode == Mode::unix_socket) return connect_unix();
  const bool want_v4 = cfg.mode == Mode::tcp;
  if (auto answer = resolver_->cached_answer(name_, want_v4)) return on_lookup(*answer);
  resolver_->resolve(name_, want_v4,
                     [self = shared_from_this()](const Lookup& lookup) { self->on_lookup(lookup); });
}

void Connection::on_lookup(const Lookup& lookup) {
  if (done()) return;
  resolver_.reset();  // a reloaded resolver may retire once its lookups are answered
  switch (lookup.outcome) {
    case Lookup::Outcome::ok:
      break;
    case Lookup::Outcome::nxdomain:
      return refuse("nxdomain", Alert::unrecognized_name);
    case Lookup::Outcome::no_records:
      return refuse("no_address", Alert::unrecognized_name);
    case Lookup::Outcome::failure:
      return refuse("resolver_failure:" + lookup.detail, Alert::internal_error);
  }
  const std::uint16_t port = runtime_->config.backend_port.value_or(listen_port_);
  std::optional<Refusal> first_refusal;
  for (const auto& a : lookup.v6) {
    auto r = runtime_->policy.check(a);
    if (r == Refusal::none)
      candidates_.push_back(endpoint(a, port));
    else if (!first_refusal)
      first_refusal = r;
  }
  for (const auto& a : lookup.v4) {
    auto r = runtime_->policy.check(a);
    if (r == Refusal::none)
      candidates_.push_back(endpoint(a, port));
    else if (!first_refusal)
      first_refusal = r;
  }
  // The client learns only "unrecognized name", never which rule refused the address.
  if (candidates_.empty())
    return refuse("refused_address:" + std::string(to_string(first_refusal.value_or(Refusal::none))),
                  Alert::unrecognized_name);
  begin_connecting();
}

void Connection::connect_unix() {
  // The socket named after the host, else the wildcard for its parent ("*.example.org").
  namespace fs = std::filesystem;
  const auto& dir = runtime_->config.unix_directory;
  std::vector<std::string> names{name_};
  if (auto dot = name_.find('.'); dot != std::string::npos) names.push_back("*" + name_.substr(dot));
  for (const auto& n : names) {
    auto path = (fs::path(dir) / n).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) continue;
    auto e = unix_endpoint(path);
    if (e) candidates_.push_back(*e);
    break;
  }
  if (candidates_.empty()) return refuse("no_unix_socket", Alert::unrecognized_name);
  begin_connecting();
}

void Connection::begin_connecting() {
  phase_ = Phase::connecting;
  connect_deadline_ = std::chrono::steady_clock::now() + runtime_->config.connect_timeout;
  connect_next();
}

// Each address gets an equal share of what is left of the connect timeout, so a black-holed first address
// cannot use up the time of those after it; the last one gets all that is left. Called once the attempt's
// candidate has been taken.
Connection::TimePoint Connection::attempt_deadline() const {
  const auto now = std::chrono::steady_clock::now();
  if (now >= connect_deadline_) return now;
  const auto addresses_left = static_cast<long>(candidates_.size() - next_candidate_ + 1);
  return now + (connect_deadline_ - now) / addresses_left;
}

void Connection::connect_next() {
  if (done()) return;
  if (next_candidate_ >= candidates_.size())
    return refuse("connect_failed:" + last_connect_error_, Alert::internal_error);
  const Endpoint& to = candidates_[next_candidate_++];
  record_->backend = to_string(to.address);
  auto fd = start_connect(to, source_, runtime_->config.dead_peer);
  if (!fd) {
    last_connect_error_ = fd.error().message;
    return connect_next();
  }
  backend_ = Socket{.fd = *fd};
  auto token =
      ctx_.loop.poller().watch(*fd, shared_from_this(), kBackendTag, ReadinessPoller::FirstReport::this_turn);
  if (!token) {
    last_connect_error_ = token.error().message;
    close_backend();
    return connect_next();
  }
  backend_.token = *token;
  arm_deadline(attempt_deadline());
  // Joining the set reports a socket whose connect() has already finished (a unix socket) at once.
}

// The backend socket became writable or reported an error while connecting: the connect has finished.
void Connection::on_connect_done() {
  const int err = connect_result(backend_.fd);
  if (err == 0) return on_backend_connected();
  last_connect_error_ = std::strerror(err);
  close_backend();
  connect_next();
}

void Connection::on_attempt_timeout() {
  close_backend();
  if (next_candidate_ >= candidates_.size() || std::chrono::steady_clock::now() >= connect_deadline_)
    return refuse("connect_timeout", Alert::internal_error);
  last_connect_error_ = "connection timed out";
  connect_next();
}

void Connection::on_backend_connected() {
  phase_ = Phase::backend_setup;
  if (!timer_.armed() || timer_.deadline() != connect_deadline_)
    arm_deadline(connect_deadline_);  // the last address's already is
  if (protocol_ != Protocol::postgres_ssl_request) return replay();
  // Eight bytes into a fresh socket's send buffer: they fit, so a plain non-blocking send is enough.
  const ssize_t n = ::send(backend_.fd, kPostgresSslRequest.data(), kPostgresSslRequest.size(), MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(kPostgresSslRequest.size()))
    return refuse(std::string("backend_error:") + (n < 0 ? std::strerror(errno) : "short write"),
                  Alert::internal_error);
  setup_ = Setup::ssl_answer;
  read_ssl_answer();
}

// Exactly one byte: whatever follows it belongs to the TLS session the relay carries.
void Connection::read_ssl_answer() {
  while (backend_.ready.readable) {
    std::uint8_t answer = 0;
    const ssize_t n = ::recv(backend_.fd, &answer, 1, 0);
    if (n == 1) {
      if (answer != 'S') return refuse("backend_refused_ssl", Alert::internal_error);
      return replay();
    }
    if (n == 0) return refuse("backend_error:closed before answering the SSLRequest", Alert::internal_error);
    if (errno == EINTR) continue;
    if (errno != EAGAIN)
      return refuse(std::string("backend_error:") + std::strerror(errno), Alert::internal_error);
    backend_.ready.readable = false;
  }
}

// The buffered bytes go out as they are, straight from the buffer, behind the PROXY v2 header if there is
// one.
void Connection::replay() {
  setup_ = Setup::replay;
  if (runtime_->config.proxy_proto) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (::getsockname(client_.fd, reinterpret_cast<sockaddr*>(&local), &len) != 0)
      return refuse(std::string("client_error:getsockname:") + std::strerror(errno), Alert::internal_error);
    proxy_header_ = proxy_v2_header(peer_, local);
  }
  record_->replayed = buffer_.size() - replay_from_;
  send_replay();
}

// Sends what the backend takes of the header and the replay, from where the last call stopped.
void Connection::send_replay() {
  const auto hello = buffer_.bytes().subspan(replay_from_);
  const std::size_t total = proxy_header_.size() + hello.size();
  while (replay_sent_ < total && backend_.ready.writable) {
    iovec parts[2];
    int count = 0;
    std::size_t skip = replay_sent_;
    if (skip < proxy_header_.size()) {
      parts[count++] = {proxy_header_.data() + skip, proxy_header_.size() - skip};
      skip = 0;
    } else {
      skip -= proxy_header_.size();
    }
    parts[count++] = {const_cast<std::uint8_t*>(hello.data()) + skip, hello.size() - skip};
    msghdr msg{};
    msg.msg_iov = parts;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t n = ::sendmsg(backend_.fd, &msg, MSG_NOSIGNAL);
    if (n > 0) {
      replay_sent_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      backend_.ready.writable = false;
    } else if (n < 0 && errno != EINTR) {
      return refuse(std::string("backend_error:") + std::strerror(errno), Alert::internal_error);
    }
  }
  if (replay_sent_ == total) start_relay();
}

// From here on the Relay owns the sockets (still in the poller's set: it takes their tokens over) and the
// AccessRecord, and takes this connection's place in ctx_.live; this Connection object goes away as soon as
// the poller's call into it returns.
void Connection::start_relay() {
  phase_ = Phase::over;
  cancel_deadline();
  auto handed = [](Socket& s) {
    WatchedSocket w{.fd = s.fd, .token = s.token.value(), .ready = s.ready};
    s = Socket{};
    return w;
  };
  const WatchedSocket client = handed(client_);
  const WatchedSocket backend = handed(backend_);
  auto relay =
      std::make_shared<Relay>(client, backend, ctx_.pipes, ctx_.loop, runtime_->config.idle_timeout,
                              [record = record_, &live = ctx_.live, slot = slot_](const RelayResult& r) {
                                live.remove(slot);
                                record->log(r.stopped ? "stopped" : "relayed", r.outcome, r);
                              });
  ctx_.live.replace(slot_, relay);
  relay->start();
}

void Connection::close_socket(Socket& s) {
  if (s.token) ctx_.loop.poller().forget(*s.token);  // no more calls, also for events already collected
  if (s.fd >= 0) ::close(s.fd);                      // which takes it out of the set
  s = Socket{};
}

void Connection::close_backend() {
  close_socket(backend_);
}

void Connection::refuse(std::string reason, Alert alert) {
  if (done()) return;
  bool speaks_tls = protocol_ == Protocol::tls || protocol_ == Protocol::postgres_ssl_request;
  if (alert != Alert::none && speaks_tls && client_.fd >= 0) {
    auto bytes = tls_alert(alert == Alert::unrecognized_name ? kAlertUnrecognizedName : kAlertInternalError);
    // Seven bytes into a socket we have not written to yet (or only one 'S'): a non-blocking send suffices.
    (void)::send(client_.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(client_.fd, SHUT_WR);
  }
  finish("refused", std::move(reason));
}

void Connection::finish(std::string outcome, std::string reason) {
  if (done()) return;
  phase_ = Phase::over;
  cancel_deadline();
  close_socket(client_);
  close_socket(backend_);
  ctx_.live.remove(slot_);
  record_->log(outcome, reason, RelayResult{});
}

}  // namespace sixgate::proxy
