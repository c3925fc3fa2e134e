#pragma once
// A worker thread's own event loop: one epoll set (the ReadinessPoller) holding every descriptor the worker
// uses (listeners, clients, backends, c-ares' sockets, and an eventfd for work handed over by other
// threads), a timer heap that sets epoll_wait's timeout, and a queue of work posted on the thread itself.
// It replaces an io_context on the worker threads: waiting on a set nested inside Asio's costs a second
// epoll_wait and a re-arm (EPOLL_CTL_MOD, which polls the nested set) on every wake-up.
//
// Everything runs on the thread that calls run(); only post_from_any_thread() and stop() may be called from
// others.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "proxy/readiness_poller.hpp"

namespace sixgate::proxy {

class EventLoop;

// One deadline on a loop. The callback runs on the loop's thread once the deadline has passed, unless the
// timer is cancelled, re-armed or destroyed first; a cancelled callback is destroyed on the loop's next turn
// (not inside cancel(), whose caller it may be keeping alive). The timer must not outlive its loop.
class LoopTimer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LoopTimer(EventLoop& loop) : loop_(loop) {}
  ~LoopTimer() { cancel(); }
  LoopTimer(const LoopTimer&) = delete;
  LoopTimer& operator=(const LoopTimer&) = delete;

  void arm(Clock::time_point at, std::function<void()> on_expiry);  // replaces an armed one
  void arm_after(Clock::duration after, std::function<void()> on_expiry) {
    arm(Clock::now() + after, std::move(on_expiry));
  }
  void cancel();
  bool armed() const { return heap_index_ != kNotQueued; }
  Clock::time_point deadline() const { return deadline_; }

 private:
  friend class EventLoop;
  static constexpr std::size_t kNotQueued = static_cast<std::size_t>(-1);
  EventLoop& loop_;
  Clock::time_point deadline_{};
  std::function<void()> on_expiry_;
  std::size_t heap_index_ = kNotQueued;
};

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  ReadinessPoller& poller() { return *poller_; }

  // Runs `work` on a later turn (never inside this call).
  void post(std::function<void()> work);
  // The same, from any thread: wakes the loop through its eventfd.
  void post_from_any_thread(std::function<void()> work);

  void run();                       // until stop()
  void run_for(Clock::duration d);  // until stop() or `d` has passed
  // One turn, waiting at most timeout_ms for descriptors; returns the calls made.
  std::size_t run_one_turn(int timeout_ms);
  void stop();  // from any thread: run() returns after the current turn
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }

  // Destroys the work still queued, the callbacks of armed timers and the poller's listeners without
  // running them (what they own is released, as when an io_context is destroyed). The loop stays usable for
  // the destructors that run meanwhile (they may post, cancel, or forget tokens); run() is not called again.
  void shut_down();

 private:
  friend class LoopTimer;
  class Wakeup;

  EventLoop(std::unique_ptr<ReadinessPoller> poller, int wake_fd);
  std::size_t turn(std::optional<Clock::time_point> wait_until);
  std::size_t run_posted();
  std::size_t fire_due_timers();
  int timeout_ms(std::optional<Clock::time_point> wait_until) const;
  void run_remote();

  void schedule(LoopTimer& t);
  void unschedule(LoopTimer& t);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, LoopTimer* t);

  std::unique_ptr<ReadinessPoller> poller_;
  int wake_fd_;
  ReadinessPoller::Token wake_token_ = 0;
  std::vector<LoopTimer*> timers_;  // a binary min-heap on deadline_; each timer knows its index
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> discarded_;  // cancelled callbacks, destroyed at the next turn
  std::atomic<bool> stopped_{false};

  // Work from other threads: the only state shared between threads, behind `remote_mutex_`.
  std::mutex remote_mutex_;
  std::vector<std::function<void()>> remote_;
  bool wake_pending_ = false;  // the eventfd has been written since the loop last took remote_
};

}  // namespace sixgate::proxy
