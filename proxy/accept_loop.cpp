#include "proxy/accept_loop.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "proxy/sockets.hpp"

namespace sixgate::proxy {

namespace {
// accept(2): these are errors of the connection being accepted (it went away, or the network under it did);
// the next one in the queue may be fine.
bool concerns_one_connection(int err) {
  switch (err) {
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}
}  // namespace

AcceptLoop::AcceptLoop(EventLoop& loop, int listen_fd, std::string text, unsigned worker, Accepted accepted)
    : poller_(loop.poller()),
      fd_(listen_fd),
      text_(std::move(text)),
      worker_(worker),
      accepted_(std::move(accepted)),
      backoff_(loop) {}

AcceptLoop::~AcceptLoop() {
  if (fd_ >= 0) ::close(fd_);
}

Status AcceptLoop::start() {
  auto token = poller_.watch_level(fd_, EPOLLIN, shared_from_this(), 0);
  if (!token) return make_error("-listen " + text_ + ": " + token.error().message);
  token_ = *token;
  return ok_status();
}

void AcceptLoop::close() {
  if (fd_ < 0) return;
  backoff_.cancel();
  if (token_) poller_.unwatch(*token_, fd_);  // an fd: listener is a dup shared with the other workers
  token_.reset();
  ::close(fd_);
  fd_ = -1;
}

void AcceptLoop::on_ready(std::uint32_t, std::uint32_t) {
  if (backing_off()) return;  // an error or hang-up, which a listener with reports off still gets
  const auto turn = poller_.turns();
  const bool queue_building = last_report_turn_ != 0 && last_report_turn_ + 1 >= turn;
  last_report_turn_ = turn;
  accept_some(queue_building ? kAcceptsPerTurn : 1);
}

void AcceptLoop::accept_some(int at_most) {
  for (int i = 0; i < at_most; ++i) {
    if (fd_ < 0) return;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    const int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN) return;  // the queue is empty
      if (err == EINTR || concerns_one_connection(err)) continue;
      return back_off(err);
    }
    delay_ = std::chrono::milliseconds(0);
    // Best effort: failing only costs the packets it saves.
    if (peer.ss_family == AF_INET || peer.ss_family == AF_INET6) delay_acks_until_reply(fd);
    accepted_(fd, peer);
  }
  // More may be queued: the listener is reported again on the next turn.
}

void AcceptLoop::want_reports(bool wanted) {
  if (token_ && !poller_.set_level_events(*token_, fd_, wanted ? std::uint32_t{EPOLLIN} : 0u))
    log::event(spdlog::level::err, "accept_failed",
               {{"listener", text_}, {"worker", worker_}, {"error", std::strerror(errno)}});
}

void AcceptLoop::back_off(int err) {
  if (delay_.count() == 0) {
    log::event(spdlog::level::err, "accept_failed",
               {{"listener", text_},
                {"worker", worker_},
                {"error", std::strerror(err)},
                {"backoff_ms", kFirstBackoff.count()}});
    delay_ = kFirstBackoff;
  } else {
    delay_ = std::min(delay_ * 2, kMaxBackoff);
  }
  waiting_ = true;
  want_reports(false);  // level-triggered: it would be reported on every turn meanwhile
  backoff_.arm_after(delay_, [self = shared_from_this()] {
    if (self->fd_ < 0) return;
    self->waiting_ = false;
    self->want_reports(true);
    self->accept_some(1);  // a failure now doubles the back-off; a success ends it
  });
}

}  // namespace sixgate::proxy
