#pragma once
// Accepts from one listening socket on its worker's ReadinessPoller and hands each new connection on.
// The listener is level-triggered: it is reported on every turn while connections wait, so a report that
// leaves some in the queue loses none. A report accepts one connection, which saves the accept(2) that
// would only say EAGAIN when connections come one at a time; when the listener was reported in the previous
// turn too (connections arrive faster than one per turn), it accepts until the queue is empty, at most
// kAcceptsPerTurn, so a flood cannot starve established connections. Errors that concern one connection (it
// was reset before accept) are skipped; errors that would fail again at once (EMFILE, ENFILE, ENOBUFS,
// ENOMEM) stop accepting for a back-off that doubles up to a second, logged once when the trouble starts;
// meanwhile the listener's reports are off, and its end tries again by itself. A TCP connection is handed on
// with delayed ACKs (delay_acks_until_reply).
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "proxy/event_loop.hpp"
#include "proxy/readiness_poller.hpp"

namespace sixgate::proxy {

class AcceptLoop : public ReadinessPoller::Listener, public std::enable_shared_from_this<AcceptLoop> {
 public:
  // `fd`: a new non-blocking client socket, owned by the callee.
  using Accepted = std::function<void(int fd, const sockaddr_storage& peer)>;
  static constexpr int kAcceptsPerTurn = 32;
  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{1000};

  // Owns `listen_fd` (non-blocking, listening). `text` names the listener in logs, `worker` the thread.
  AcceptLoop(EventLoop& loop, int listen_fd, std::string text, unsigned worker, Accepted accepted);
  ~AcceptLoop() override;
  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;

  Status start();  // joins the poller; connections already queued are accepted on its next turn
  void close();    // no more accepts; the listening socket is closed
  void on_ready(std::uint32_t tag, std::uint32_t events) override;
  bool backing_off() const { return waiting_; }
  int fd() const { return fd_; }  // -1 once closed

 private:
  void accept_some(int at_most);
  void back_off(int err);
  void want_reports(bool wanted);

  ReadinessPoller& poller_;
  int fd_;
  std::string text_;
  unsigned worker_;
  Accepted accepted_;
  std::optional<ReadinessPoller::Token> token_;
  LoopTimer backoff_;
  std::chrono::milliseconds delay_{0};  // the last back-off; 0 once an accept has succeeded since
  bool waiting_ = false;                // a back-off is running: reports are off until its end
  std::uint64_t last_report_turn_ = 0;  // the poller's turn in which the listener was last reported
};

}  // namespace sixgate::proxy
