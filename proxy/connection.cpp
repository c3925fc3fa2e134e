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

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/log.hpp"
#include "proxy/core/hostname.hpp"
#include "proxy/core/proxy_protocol.hpp"
#include "proxy/core/tls_alert.hpp"

namespace sixgate::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr std::size_t kMaxHttpHead = 16384;
constexpr std::size_t kReadChunk = 4096;
constexpr std::size_t kRecordHeader = 5;
constexpr std::size_t kHandshakeHeader = 4;
}  // namespace

AccessRecord::AccessRecord(std::atomic<std::size_t>& a, std::string listener_text)
    : active(&a), started(std::chrono::steady_clock::now()), listener(std::move(listener_text)) {}

AccessRecord::~AccessRecord() {
  active->fetch_sub(1, std::memory_order_relaxed);
}

void AccessRecord::log(std::string_view outcome, std::string_view reason, const RelayResult& relayed) const {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
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

Connection::Connection(WorkerContext& ctx, StreamSocket client, const sockaddr_storage& peer,
                       const std::string& listener, std::uint16_t listen_port)
    : ctx_(ctx),
      runtime_(ctx.runtime),
      resolver_(ctx.resolver),
      client_(std::move(client)),
      backend_(ctx.io),
      record_(std::make_shared<AccessRecord>(ctx.active, listener)),
      peer_(peer),
      listen_port_(listen_port),
      timer_(ctx.io) {}

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
  arm_deadline(std::chrono::steady_clock::now() + cfg.hello_timeout);
  read_hello();
}

void Connection::stop(std::string_view reason) {
  finish("stopped", std::string(reason));
}

void Connection::arm_deadline(TimePoint at) {
  const auto armed = ++deadline_armed_;
  timer_.expires_at(at);
  timer_.async_wait([self = shared_from_this(), armed](const error_code& ec) {
    // cancel() cannot recall an expiry that is already queued: one from an earlier arming is stale.
    if (ec || armed != self->deadline_armed_ || self->done()) return;
    self->on_deadline();
  });
}

void Connection::cancel_deadline() {
  ++deadline_armed_;
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

void Connection::read_hello() {
  const std::size_t limit = hello_buffer_limit();
  if (buffer_.size() >= limit) return refuse("hello_too_large", Alert::none);
  const std::size_t want = std::min(kReadChunk, limit - buffer_.size());
  auto room = buffer_.spare(want).first(want);
  client_.async_read_some(asio::buffer(room.data(), room.size()),
                          [self = shared_from_this()](const error_code& ec, std::size_t n) {
                            self->buffer_.commit(n);
                            if (self->done()) return;
                            if (ec == asio::error::eof)
                              return self->finish("refused", "client_closed_in_hello");
                            if (ec) return self->finish("refused", "client_error:" + ec.message());
                            self->on_hello_bytes();
                          });
}

void Connection::on_hello_bytes() {
  const auto& cfg = runtime_->config;
  if (protocol_ == Protocol::need_more) {
    protocol_ = record_->proto = sniff(buffer_.bytes());
    switch (protocol_) {
      case Protocol::need_more:
        return read_hello();
      case Protocol::unknown:
        return refuse("unknown_protocol", Alert::none);
      case Protocol::tls:
        hello_.emplace(HelloLimits{cfg.max_hello_bytes + kHandshakeHeader});
        break;
      case Protocol::postgres_ssl_request: {
        replay_from_ = parsed_ = kPostgresSslRequest.size();
        hello_.emplace(HelloLimits{cfg.max_hello_bytes + kHandshakeHeader});
        static constexpr std::uint8_t kYes = 'S';
        // One byte into a fresh socket's send buffer: it fits, so a plain non-blocking send is enough.
        if (::send(client_.native_handle(), &kYes, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
          return finish("refused", "client_error:postgres_reply");
        break;
      }
      case Protocol::http:
        http_.emplace(kMaxHttpHead);
        break;
    }
  }
  if (parsed_ >= buffer_.size()) return read_hello();
  auto fresh = buffer_.bytes().subspan(parsed_);
  parsed_ = buffer_.size();
  if (hello_) {
    switch (hello_->feed(fresh)) {
      case ClientHelloParser::State::need_more:
        return read_hello();
      case ClientHelloParser::State::failed:
        return refuse("bad_hello:" + std::string(hello_->failure_reason()), Alert::none);
      case ClientHelloParser::State::done:
        return on_name_known(hello_->server_name());
    }
  } else {
    switch (http_->feed(fresh)) {
      case HttpHostParser::State::need_more:
        return read_hello();
      case HttpHostParser::State::failed:
        return refuse("bad_http:" + std::string(http_->failure_reason()), Alert::none);
      case HttpHostParser::State::done:
        return on_name_known(http_->host());
    }
  }
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
  auto fd = start_connect(to, source_);
  if (!fd) {
    last_connect_error_ = fd.error().message;
    return connect_next();
  }
  error_code ec;
  backend_.assign(
      asio::generic::stream_protocol(to.address.ss_family, to.address.ss_family == AF_UNIX ? 0 : IPPROTO_TCP),
      *fd, ec);
  if (ec) {
    ::close(*fd);
    last_connect_error_ = ec.message();
    return connect_next();
  }
  arm_deadline(attempt_deadline());
  const auto attempt = ++attempt_;
  backend_.async_wait(StreamSocket::wait_write,
                      [self = shared_from_this(), attempt](const error_code& wait_ec) {
                        if (self->done() || attempt != self->attempt_) return;
                        int err = wait_ec ? wait_ec.value() : connect_result(self->backend_.native_handle());
                        if (err == 0) return self->on_backend_connected();
                        self->last_connect_error_ = std::strerror(err);
                        self->close_backend();
                        self->connect_next();
                      });
}

void Connection::on_attempt_timeout() {
  ++attempt_;  // the attempt's pending wait completes later, aborted: it must not act
  close_backend();
  if (next_candidate_ >= candidates_.size() || std::chrono::steady_clock::now() >= connect_deadline_)
    return refuse("connect_timeout", Alert::internal_error);
  last_connect_error_ = "connection timed out";
  connect_next();
}

void Connection::on_backend_connected() {
  phase_ = Phase::backend_setup;
  if (timer_.expiry() != connect_deadline_) arm_deadline(connect_deadline_);  // the last address's already is
  if (protocol_ == Protocol::postgres_ssl_request) return postgres_backend_handshake();
  replay();
}

void Connection::postgres_backend_handshake() {
  auto self = shared_from_this();
  asio::async_write(backend_, asio::buffer(kPostgresSslRequest), [self](const error_code& ec, std::size_t) {
    if (self->done()) return;
    if (ec) return self->refuse("backend_error:" + ec.message(), Alert::internal_error);
    auto answer = std::make_shared<std::uint8_t>(0);
    asio::async_read(self->backend_, asio::buffer(answer.get(), 1),
                     [self, answer](const error_code& read_ec, std::size_t) {
                       if (self->done()) return;
                       if (read_ec)
                         return self->refuse("backend_error:" + read_ec.message(), Alert::internal_error);
                       if (*answer != 'S') return self->refuse("backend_refused_ssl", Alert::internal_error);
                       self->replay();
                     });
  });
}

// The buffered bytes go out as they are, straight from the buffer (the Connection lives until the write
// completes), behind the PROXY v2 header if there is one.
void Connection::replay() {
  if (runtime_->config.proxy_proto) {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (::getsockname(client_.native_handle(), reinterpret_cast<sockaddr*>(&local), &len) != 0)
      return refuse(std::string("client_error:getsockname:") + std::strerror(errno), Alert::internal_error);
    proxy_header_ = proxy_v2_header(peer_, local);
  }
  const auto hello = buffer_.bytes().subspan(replay_from_);
  record_->replayed = hello.size();
  const std::array<asio::const_buffer, 2> out{asio::buffer(proxy_header_),
                                              asio::buffer(hello.data(), hello.size())};
  asio::async_write(backend_, out, [self = shared_from_this()](const error_code& ec, std::size_t) {
    if (self->done()) return;
    if (ec) return self->refuse("backend_error:" + ec.message(), Alert::internal_error);
    self->start_relay();
  });
}

// From here on the Relay owns the sockets and the AccessRecord, and takes this connection's place in
// ctx_.live; this Connection object goes away as soon as the handler that called us returns. The sockets
// leave the io_context (they are non-blocking already: Asio made them so for its first read or write).
void Connection::start_relay() {
  phase_ = Phase::over;
  cancel_deadline();
  error_code client_ec, backend_ec;
  const int client_fd = client_.release(client_ec);
  const int backend_fd = backend_.release(backend_ec);
  auto relay = std::make_shared<Relay>(
      client_fd, backend_fd, *ctx_.poller, ctx_.pipes, ctx_.io.get_executor(), runtime_->config.idle_timeout,
      [record = record_, &live = ctx_.live, slot = slot_](const RelayResult& r) {
        live.remove(slot);
        record->log(r.stopped ? "stopped" : "relayed", r.outcome, r);
      });
  ctx_.live.replace(slot_, relay);
  if (client_ec || backend_ec)
    return relay->stop("release_failed:" + (client_ec ? client_ec : backend_ec).message());
  relay->start();
}

void Connection::close_backend() {
  error_code ignored;
  backend_.close(ignored);  // a pending wait completes with operation_aborted
}

void Connection::refuse(std::string reason, Alert alert) {
  if (done()) return;
  bool speaks_tls = protocol_ == Protocol::tls || protocol_ == Protocol::postgres_ssl_request;
  if (alert != Alert::none && speaks_tls && client_.is_open()) {
    auto bytes = tls_alert(alert == Alert::unrecognized_name ? kAlertUnrecognizedName : kAlertInternalError);
    // Seven bytes into a socket we have not written to yet (or only one 'S'): a non-blocking send suffices.
    (void)::send(client_.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(client_.native_handle(), SHUT_WR);
  }
  finish("refused", std::move(reason));
}

void Connection::finish(std::string outcome, std::string reason) {
  if (done()) return;
  phase_ = Phase::over;
  cancel_deadline();
  error_code ignored;
  client_.close(ignored);
  backend_.close(ignored);
  ctx_.live.remove(slot_);
  record_->log(outcome, reason, RelayResult{});
}

}  // namespace sixgate::proxy
