#include "proxy/relay.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sixgate::proxy {

namespace {
constexpr int kRoundsPerWakeup = 32;  // then yield to other connections on this worker
// A read that returns less than this (and less than it asked for) took one small flight, a handshake
// message or a request: its sender now waits for an answer, so reading again would only say EAGAIN. The
// source counts as not ready instead; the next segment to arrive raises a new edge. Not so once the peer has
// closed: a FIN that came with the flight raises no edge of its own, and only the next read reports the EOF.
// Bulk reads are larger and keep reading while the sender keeps sending.
constexpr std::size_t kSmallFlight = 16384;
// A splice into a pipe says as much about its source only when the pipe could have taken more: a pipe fills
// by page slots, one per segment fragment (~1.4 KiB on a 1500-byte MTU), not by bytes, so a read into a
// partly used pipe, or into a small one (an unprivileged user past pipe-user-pages-soft gets 2-slot pipes),
// can stop, or fail with EAGAIN, while the socket still holds data. Such a source stays readable: an unread
// receive queue can close the window, and then no new segment, so no edge, would ever come. An empty pipe of
// this many slots cannot run out of them below kSmallFlight unless fragments average under 64 bytes.
constexpr std::size_t kSlotsToJudgeSource = 256;
// The copy modes' read size: one small flight. A read that fills it means the source has bulk queued, which
// costs less spliced: per byte a splice moves page references where a copy moves bytes twice, but per call it
// costs more (the pipe's lock, page bookkeeping), which small flights feel. In the harness's conn/s test (TLS
// handshake and a small request and answer per connection) splice and pipe work were ~15 µs of the proxy's
// ~250–330 µs per connection (perf); copying those flights instead added no measurable kernel time.
constexpr std::size_t kCopyBuffer = kSmallFlight;
constexpr std::uint32_t kClientTag = 0, kBackendTag = 1;

// Sends what a TCP socket holds back after MSG_MORE (setting TCP_NODELAY pushes pending frames even when
// it is set already). Other socket types hold nothing back, so their refusal does not matter.
void push_held_back(int fd) {
  const int on = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}
}  // namespace

Relay::Relay(const WatchedSocket& client, const WatchedSocket& backend, PipePool& pipes, EventLoop& loop,
             std::chrono::milliseconds idle_timeout, Done done)
    : client_{.fd = client.fd, .name = "client", .ready = client.ready, .token = client.token},
      backend_{.fd = backend.fd, .name = "backend", .ready = backend.ready, .token = backend.token},
      pipes_(pipes),
      loop_(loop),
      idle_timeout_(idle_timeout),
      done_(std::move(done)) {
  if (idle_timeout_.count() > 0) idle_timer_.emplace(loop_);
  up_.src = &client_;
  up_.dst = &backend_;
  down_.src = &backend_;
  down_.dst = &client_;
}

// Only when the worker goes away with the relay still running (finish() has closed everything otherwise).
Relay::~Relay() {
  for (Direction* d : {&up_, &down_})
    if (d->pipe) close_pipe(*d->pipe);
  for (Side* s : {&client_, &backend_})
    if (s->fd >= 0) ::close(s->fd);
}

void Relay::start() {
  last_activity_ = std::chrono::steady_clock::now();
  arm_idle_timer();
  loop_.poller().hand_over(client_.token, shared_from_this(), kClientTag);
  loop_.poller().hand_over(backend_.token, shared_from_this(), kBackendTag);
  // What the sockets' previous listener knew to be ready raises no new edge.
  pump(up_);
  pump(down_);
}

void Relay::arm_idle_timer() {
  if (idle_timeout_.count() == 0 || over_) return;
  auto due = last_activity_ + idle_timeout_;
  idle_timer_->arm(due, [self = shared_from_this()] {
    if (self->over_) return;
    if (std::chrono::steady_clock::now() - self->last_activity_ >= self->idle_timeout_)
      self->finish("idle_timeout");
    else
      self->arm_idle_timer();
  });
}

void Relay::on_ready(std::uint32_t tag, std::uint32_t events) {
  (tag == kClientTag ? client_ : backend_).ready.note(events);
  pump(up_);
  pump(down_);
}

void Relay::pump(Direction& d) {
  for (int round = 0; round < kRoundsPerWakeup; ++round) {
    if (over_ || d.finished) return;
    switch (d.mode == Mode::splice ? step_splice(d) : step_copy(d)) {
      case Step::over:
        return;
      case Step::blocked:
        if (!settle(d)) return;
        break;
      case Step::progress:
        if (idle_timer_) last_activity_ = std::chrono::steady_clock::now();
        break;
    }
  }
  // Still going: let the worker's other connections have a turn first.
  if (continuation_posted_) return;
  continuation_posted_ = true;
  loop_.post([self = shared_from_this()] {
    self->continuation_posted_ = false;
    self->pump(self->up_);
    self->pump(self->down_);
  });
}

// One round: top the pipe up from the source (up to its capacity, so a slow destination lets us read ahead),
// then move what the pipe holds to the destination, each only if its socket is known to be ready.
Relay::Step Relay::step_splice(Direction& d) {
  bool progress = false;
  if (!d.eof && d.src->ready.readable && (!d.pipe || d.in_pipe < d.pipe->capacity)) {
    if (!d.pipe) {
      d.pipe = pipes_.take();
      if (!d.pipe) {
        d.mode = Mode::copy_only;
        return Step::progress;
      }
    }
    const std::size_t room = d.pipe->capacity - d.in_pipe;
    const bool pipe_was_empty = d.in_pipe == 0;
    ssize_t n =
        ::splice(d.src->fd, nullptr, d.pipe->write_end, nullptr, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      d.in_pipe += static_cast<std::size_t>(n);
      d.bytes += static_cast<std::uint64_t>(n);
      progress = true;
      if (static_cast<std::size_t>(n) < room && d.src->ready.peer_closed) d.fin_behind = true;
      if (static_cast<std::size_t>(n) < std::min(room, kSmallFlight) && !d.src->ready.peer_closed &&
          pipe_was_empty && d.pipe->slots >= kSlotsToJudgeSource)
        d.src->ready.readable = false;
    } else if (n == 0) {
      d.eof = true;
      progress = true;
    } else if (errno == EINTR) {
      return Step::progress;
    } else if ((errno == EINVAL || errno == ENOSYS) && d.in_pipe == 0) {  // this socket type cannot splice
      pipes_.give(*d.pipe);
      d.pipe.reset();
      d.mode = Mode::copy_only;
      return Step::progress;
    } else if (errno == EAGAIN) {
      if (pipe_was_empty) d.src->ready.readable = false;  // else the pipe may be out of slots
    } else {
      fail(*d.src, errno);
      return Step::over;
    }
  }
  if (d.in_pipe > 0 && d.dst->ready.writable) {
    ssize_t n = ::splice(d.pipe->read_end, nullptr, d.dst->fd, nullptr, d.in_pipe,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK | more_flag(d, SPLICE_F_MORE));
    if (n > 0) {
      d.in_pipe -= static_cast<std::size_t>(n);
      progress = true;
    } else if (n < 0 && errno == EINTR) {
      return Step::progress;
    } else if (n < 0 && errno == EAGAIN) {
      d.dst->ready.writable = false;
    } else {
      fail(*d.dst, n < 0 ? errno : EPIPE);
      return Step::over;
    }
  }
  if (d.in_pipe == 0 && d.pipe && (d.eof || !progress)) {
    pipes_.give(*d.pipe);  // empty: an idle direction holds no pipe
    d.pipe.reset();
  }
  if (d.eof && d.in_pipe == 0) return end_of_direction(d);
  return progress ? Step::progress : Step::blocked;
}

// One flight: read what the source has into a stack buffer and hand it to the destination at once; only what
// the destination does not take is kept (on the heap, until it drains), so an idle direction holds nothing.
Relay::Step Relay::step_copy(Direction& d) {
  if (d.held_start < d.held_end) return send_held(d);
  if (d.eof) return end_of_direction(d);
  if (d.mode == Mode::bulk) {  // everything read so far has been delivered: the pipe takes over from here
    d.mode = Mode::splice;
    return Step::progress;
  }
  if (!d.src->ready.readable) return Step::blocked;
  char flight[kCopyBuffer];
  ssize_t n = ::recv(d.src->fd, flight, sizeof flight, 0);
  if (n == 0) {
    d.eof = true;
    return Step::progress;
  }
  if (n < 0) {
    if (errno == EINTR) return Step::progress;
    if (errno == EAGAIN) {
      d.src->ready.readable = false;
      return Step::blocked;
    }
    fail(*d.src, errno);
    return Step::over;
  }
  const auto got = static_cast<std::size_t>(n);
  d.bytes += got;
  if (got < sizeof flight) {
    if (d.src->ready.peer_closed)
      d.fin_behind = true;
    else
      d.src->ready.readable = false;
  }
  if (got == sizeof flight && d.mode == Mode::copy) d.mode = Mode::bulk;
  std::size_t sent = 0;
  if (d.dst->ready.writable) {
    auto taken = send_to_destination(d, flight, got);
    if (!taken) return Step::over;
    sent = *taken;
  }
  if (sent < got) {
    d.held = std::make_unique<char[]>(got - sent);
    std::memcpy(d.held.get(), flight + sent, got - sent);
    d.held_start = 0;
    d.held_end = got - sent;
  }
  return Step::progress;
}

Relay::Step Relay::send_held(Direction& d) {
  if (!d.dst->ready.writable) return Step::blocked;
  auto taken = send_to_destination(d, d.held.get() + d.held_start, d.held_end - d.held_start);
  if (!taken) return Step::over;
  // EINTR: again; EAGAIN: wait
  if (*taken == 0) return d.dst->ready.writable ? Step::progress : Step::blocked;
  d.held_start += *taken;
  if (d.held_start == d.held_end) {
    d.held.reset();
    d.held_start = d.held_end = 0;
  }
  return Step::progress;
}

// What the destination took: 0 when it is full (then it counts as not writable) or the call was interrupted;
// nullopt when the send failed, after ending the relay.
std::optional<std::size_t> Relay::send_to_destination(Direction& d, const char* data, std::size_t size) {
  ssize_t n = ::send(d.dst->fd, data, size, MSG_NOSIGNAL | more_flag(d, MSG_MORE));
  if (n > 0) return static_cast<std::size_t>(n);
  if (n < 0 && errno == EAGAIN) {
    d.dst->ready.writable = false;
    return 0;
  }
  if (n < 0 && errno == EINTR) return 0;
  fail(*d.dst, n < 0 ? errno : EPIPE);
  return std::nullopt;
}

Relay::Step Relay::end_of_direction(Direction& d) {
  d.finished = true;
  if (up_.finished && down_.finished) {
    finish("closed");  // closing sends the FIN: both peers' input has been read to its end, so no reset
    return Step::over;
  }
  ::shutdown(d.dst->fd, SHUT_WR);
  return Step::over;
}

// A blocked direction waits either for its destination (bytes are held) or for its source. While it waits
// for its destination, each segment reaching its source would wake the worker for nothing (a bulk download
// from a fast backend to a slower client), so the source is parked: the poller stops reporting its input.
// Waiting for the source unparks it first, and the source is read once more, since the bytes that came while
// it was parked raised no edge. A failed park only costs the empty wake-ups it would have saved, so it is not
// an error; a failed unpark would lose those bytes.
bool Relay::settle(Direction& d) {
  if (d.holding()) {
    if (!d.eof && !d.src_parked) d.src_parked = loop_.poller().want_input(d.src->token, d.src->fd, false);
    return false;
  }
  if (!d.src_parked) return false;
  if (!loop_.poller().want_input(d.src->token, d.src->fd, true)) {
    fail(*d.src, errno);
    return false;
  }
  d.src_parked = false;
  d.src->ready.readable = true;
  return true;
}

void Relay::fail(const Side& side, int err) {
  finish(std::string(side.name) + "_error:" + std::strerror(err));
}

void Relay::stop(std::string_view reason) {
  finish(std::string(reason), true);
}

void Relay::finish(const std::string& outcome, bool stopped) {
  if (over_) return;
  over_ = true;
  auto self = shared_from_this();  // forgetting the sockets drops the poller's references
  if (idle_timer_) idle_timer_->cancel();
  for (Direction* d : {&up_, &down_}) {
    // Ended before its EOF (an error, stop()): its last segment may be held back for a FIN it did not send.
    // Closing a socket whose peer sent bytes we did not read resets it and drops what it had not sent.
    if (d->fin_behind && !d->finished) push_held_back(d->dst->fd);
    if (d->pipe) {
      // A pipe with bytes left in it cannot be reused by another connection.
      if (d->in_pipe == 0)
        pipes_.give(*d->pipe);
      else
        close_pipe(*d->pipe);
      d->pipe.reset();
    }
  }
  for (Side* s : {&client_, &backend_}) {
    loop_.poller().forget(s->token);
    ::close(s->fd);  // leaves the poller's set with it
    s->fd = -1;
  }
  RelayResult r{up_.bytes, down_.bytes, outcome, stopped};
  auto done = std::move(done_);
  if (done) done(r);
}

}  // namespace sixgate::proxy
