#include "proxy/relay.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace sixgate::proxy {

namespace asio = boost::asio;

namespace {
constexpr int kRoundsPerWakeup = 32;  // then yield to other connections on this worker
constexpr std::size_t kCopyBuffer = 16384;
// A splice that returns less than this (and less than it asked for) read one small flight, a handshake
// message or a request: its sender now waits for an answer, so the next splice would only say EAGAIN. The
// direction goes straight to its readiness wait instead; re-arming the wait reports bytes that arrived
// meanwhile, so nothing is missed. Bulk reads are larger and keep reading while the sender keeps sending.
constexpr std::size_t kSmallFlight = 16384;

bool set_receive_low_water(int fd, int bytes) {
  return ::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) == 0;
}

// Asio registers every socket for EPOLLIN, edge-triggered, for its whole life, so while a direction waits for
// its destination to take bytes, each segment that reaches its source wakes the worker for nothing (a bulk
// download from a fast backend to a slower client: ~15 empty wake-ups per real one). A receive low-water mark
// of half the receive buffer keeps TCP from signalling the source until about as much as its window allows
// has arrived (TCP advertises about half the buffer), or the peer closes. Half, not more: Linux grows the
// receive buffer to fit a larger mark (up to tcp_rmem's maximum, 32 MiB on some hosts), which would let one
// parked connection hold that much. splice() and recv() on a non-blocking socket still return whatever is
// there; the mark goes back to 1 before the relay waits on the source.
bool park_source(int fd) {
  int buffer = 0;
  socklen_t len = sizeof buffer;
  if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, &len) != 0 || buffer < 4) return false;
  return set_receive_low_water(fd, buffer / 2);
}
}  // namespace

Relay::Relay(StreamSocket client, StreamSocket backend, PipePool& pipes,
             std::chrono::milliseconds idle_timeout, Done done)
    : client_(std::move(client)),
      backend_(std::move(backend)),
      pipes_(pipes),
      idle_timeout_(idle_timeout),
      done_(std::move(done)) {
  if (idle_timeout_.count() > 0) idle_timer_.emplace(client_.get_executor());
  up_.src = &client_;
  up_.dst = &backend_;
  up_.src_name = "client";
  up_.dst_name = "backend";
  down_.src = &backend_;
  down_.dst = &client_;
  down_.src_name = "backend";
  down_.dst_name = "client";
}

void Relay::start() {
  last_activity_ = std::chrono::steady_clock::now();
  arm_idle_timer();
  // The backend has just been handed the client's first flight and the client waits for its answer, so a
  // splice now would only say EAGAIN on both sides; waiting first reports any bytes that are already there.
  wait_for_source(up_);
  wait_for_source(down_);
}

void Relay::arm_idle_timer() {
  if (idle_timeout_.count() == 0 || over_) return;
  auto due = last_activity_ + idle_timeout_;
  idle_timer_->expires_at(due);
  idle_timer_->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->over_) return;
    if (std::chrono::steady_clock::now() - self->last_activity_ >= self->idle_timeout_)
      self->finish("idle_timeout");
    else
      self->arm_idle_timer();
  });
}

void Relay::pump(Direction& d) {
  if (over_ || d.finished) return;
  for (int round = 0; round < kRoundsPerWakeup; ++round) {
    bool more = d.copy_mode ? pump_copy(d) : pump_splice(d);
    if (!more || over_) return;
  }
  asio::post(client_.get_executor(), [self = shared_from_this(), &d] { self->pump(d); });
}

// One round: top the pipe up from the source (up to its capacity, so a slow destination lets us read ahead),
// then move what the pipe holds to the destination. Returns true when it made progress and may go on;
// otherwise it has started the wait that will resume it (destination writable if bytes are waiting, else
// source readable), finished the direction, or failed the relay.
bool Relay::pump_splice(Direction& d) {
  const int src = d.src->native_handle(), dst = d.dst->native_handle();
  bool progress = false;
  if (!d.eof && !d.src_drained && (!d.pipe || d.in_pipe < d.pipe->capacity)) {
    if (!d.pipe) {
      d.pipe = pipes_.take();
      if (!d.pipe) {
        d.copy_mode = true;
        return true;
      }
    }
    const std::size_t room = d.pipe->capacity - d.in_pipe;
    ssize_t n = ::splice(src, nullptr, d.pipe->write_end, nullptr, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      d.in_pipe += static_cast<std::size_t>(n);
      d.bytes += static_cast<std::uint64_t>(n);
      progress = true;
      d.src_drained = static_cast<std::size_t>(n) < std::min(room, kSmallFlight);
    } else if (n == 0) {
      d.eof = true;
      progress = true;
    } else if (errno == EINTR) {
      return true;
    } else if ((errno == EINVAL || errno == ENOSYS) && d.bytes == 0) {  // this socket type cannot splice
      pipes_.give(*d.pipe);
      d.pipe.reset();
      d.copy_mode = true;
      return true;
    } else if (errno != EAGAIN) {
      fail(d.src_name, errno);
      return false;
    }
  }
  bool dst_full = false;
  if (d.in_pipe > 0) {
    ssize_t n =
        ::splice(d.pipe->read_end, nullptr, dst, nullptr, d.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      d.in_pipe -= static_cast<std::size_t>(n);
      progress = true;
    } else if (n < 0 && errno == EINTR) {
      return true;
    } else if (n < 0 && errno == EAGAIN) {
      dst_full = true;
    } else {
      fail(d.dst_name, n < 0 ? errno : EPIPE);
      return false;
    }
  }
  if (d.in_pipe == 0 && d.pipe && (d.eof || !progress)) {
    pipes_.give(*d.pipe);  // empty: an idle direction holds no pipe
    d.pipe.reset();
  }
  if (d.eof && d.in_pipe == 0) {
    ::shutdown(dst, SHUT_WR);
    d.finished = true;
    if (up_.finished && down_.finished) finish("closed");
    return false;
  }
  if (progress) {
    last_activity_ = std::chrono::steady_clock::now();
    return true;
  }
  if (dst_full)
    wait_for_destination(d);
  else
    wait_for_source(d);
  return false;
}

bool Relay::pump_copy(Direction& d) {
  const int src = d.src->native_handle(), dst = d.dst->native_handle();
  if (!d.buffer) d.buffer = std::make_unique<char[]>(kCopyBuffer);
  if (d.buffer_start < d.buffer_end) {
    ssize_t n = ::send(dst, d.buffer.get() + d.buffer_start, d.buffer_end - d.buffer_start, MSG_NOSIGNAL);
    if (n > 0) {
      d.buffer_start += static_cast<std::size_t>(n);
      last_activity_ = std::chrono::steady_clock::now();
      return true;
    }
    if (n < 0 && errno == EINTR) return true;
    if (n < 0 && errno == EAGAIN) {
      wait_for_destination(d);
      return false;
    }
    fail(d.dst_name, n < 0 ? errno : EPIPE);
    return false;
  }
  d.buffer_start = d.buffer_end = 0;
  if (d.eof) {
    ::shutdown(dst, SHUT_WR);
    d.finished = true;
    if (up_.finished && down_.finished) finish("closed");
    return false;
  }
  ssize_t n = ::recv(src, d.buffer.get(), kCopyBuffer, 0);
  if (n > 0) {
    d.buffer_end = static_cast<std::size_t>(n);
    d.bytes += static_cast<std::uint64_t>(n);
    last_activity_ = std::chrono::steady_clock::now();
    return true;
  }
  if (n == 0) {
    d.eof = true;
    return true;
  }
  if (errno == EINTR) return true;
  if (errno == EAGAIN) {
    wait_for_source(d);
    return false;
  }
  fail(d.src_name, errno);
  return false;
}

// A failed setsockopt only costs the empty wake-ups it would have saved, so it is not an error.
void Relay::wait_for_destination(Direction& d) {
  if (!d.eof && !d.src_parked) d.src_parked = park_source(d.src->native_handle());
  wait(d, true);
}

void Relay::wait_for_source(Direction& d) {
  if (d.src_parked) {
    if (!set_receive_low_water(d.src->native_handle(), 1)) return fail(d.src_name, errno);
    d.src_parked = false;
  }
  wait(d, false);
}

void Relay::wait(Direction& d, bool for_write) {
  d.waiting = true;
  const char* side = for_write ? d.dst_name : d.src_name;
  StreamSocket& s = for_write ? *d.dst : *d.src;
  s.async_wait(for_write ? StreamSocket::wait_write : StreamSocket::wait_read,
               [self = shared_from_this(), &d, side](const boost::system::error_code& ec) {
                 d.waiting = false;
                 d.src_drained = false;
                 if (self->over_) return;
                 if (ec && ec != asio::error::operation_aborted) {
                   self->fail(side, ec.value());
                   return;
                 }
                 self->pump(d);
               });
}

void Relay::fail(const char* side, int err) {
  finish(std::string(side) + "_error:" + std::strerror(err));
}

void Relay::stop(std::string_view reason) {
  finish(std::string(reason), true);
}

void Relay::finish(const std::string& outcome, bool stopped) {
  if (over_) return;
  over_ = true;
  if (idle_timer_) idle_timer_->cancel();
  for (Direction* d : {&up_, &down_}) {
    if (d->pipe) {
      // A pipe with bytes left in it cannot be reused by another connection.
      if (d->in_pipe == 0) {
        pipes_.give(*d->pipe);
      } else {
        ::close(d->pipe->read_end);
        ::close(d->pipe->write_end);
      }
      d->pipe.reset();
    }
  }
  boost::system::error_code ignored;
  client_.close(ignored);
  backend_.close(ignored);
  RelayResult r{up_.bytes, down_.bytes, outcome, stopped};
  auto done = std::move(done_);
  if (done) done(r);
}

}  // namespace sixgate::proxy
