#include "proxy/event_loop.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

namespace sixgate::proxy {

// The eventfd's listener: other threads' posts and stop() write it; the loop takes their work.
class EventLoop::Wakeup : public ReadinessPoller::Listener {
 public:
  explicit Wakeup(EventLoop& loop) : loop_(loop) {}
  void on_ready(std::uint32_t, std::uint32_t) override { loop_.run_remote(); }

 private:
  EventLoop& loop_;
};

void LoopTimer::arm(Clock::time_point at, std::function<void()> on_expiry) {
  cancel();
  deadline_ = at;
  on_expiry_ = std::move(on_expiry);
  loop_.schedule(*this);
}

void LoopTimer::cancel() {
  if (!armed()) return;
  loop_.unschedule(*this);
  loop_.discarded_.push_back(std::move(on_expiry_));
  on_expiry_ = nullptr;
}

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  auto poller = ReadinessPoller::create();
  if (!poller) return poller.error();
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) return make_error(std::string("eventfd: ") + std::strerror(errno));
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(poller).value(), wake_fd));
  auto token = loop->poller_->watch(wake_fd, std::make_shared<Wakeup>(*loop), 0);
  if (!token) return token.error();
  loop->wake_token_ = *token;
  return loop;
}

EventLoop::EventLoop(std::unique_ptr<ReadinessPoller> poller, int wake_fd)
    : poller_(std::move(poller)), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  shut_down();
  poller_.reset();
  ::close(wake_fd_);
}

void EventLoop::shut_down() {
  // Each round's destructors may queue more (a connection's timer cancelled as it goes); bounded because
  // nothing runs that could create new connections.
  for (int round = 0; round < 16; ++round) {
    std::vector<std::function<void()>> dropped;
    dropped.swap(posted_);
    for (auto& d : discarded_) dropped.push_back(std::move(d));
    discarded_.clear();
    {
      std::lock_guard lock(remote_mutex_);
      for (auto& r : remote_) dropped.push_back(std::move(r));
      remote_.clear();
    }
    while (!timers_.empty()) {
      LoopTimer* t = timers_.back();
      timers_.pop_back();
      t->heap_index_ = LoopTimer::kNotQueued;
      dropped.push_back(std::move(t->on_expiry_));
      t->on_expiry_ = nullptr;
    }
    const bool listeners_left = poller_->watched() > 1;  // beside the eventfd
    if (dropped.empty() && !listeners_left) return;
    dropped.clear();
    poller_->forget_all_except(wake_token_);
  }
}

void EventLoop::post(std::function<void()> work) {
  posted_.push_back(std::move(work));
}

void EventLoop::post_from_any_thread(std::function<void()> work) {
  bool write_eventfd;
  {
    std::lock_guard lock(remote_mutex_);
    remote_.push_back(std::move(work));
    write_eventfd = !wake_pending_;
    wake_pending_ = true;
  }
  if (write_eventfd) {
    const std::uint64_t one = 1;
    // Fails only when the counter would overflow, which leaves the loop woken anyway.
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
  }
}

void EventLoop::stop() {
  stopped_.store(true, std::memory_order_release);
  post_from_any_thread([] {});  // wakes a loop blocked in epoll_wait
}

void EventLoop::run_remote() {
  std::uint64_t count;
  while (::read(wake_fd_, &count, sizeof count) > 0) {
  }
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(remote_mutex_);
    work.swap(remote_);
    wake_pending_ = false;
  }
  for (auto& w : work) w();
}

void EventLoop::run() {
  while (!stopped()) turn(std::nullopt);
}

void EventLoop::run_for(Clock::duration d) {
  const auto until = Clock::now() + d;
  while (!stopped() && Clock::now() < until) turn(until);
}

std::size_t EventLoop::run_one_turn(int timeout_ms) {
  return turn(Clock::now() + std::chrono::milliseconds(timeout_ms));
}

// Descriptors first, then expired timers (as nginx orders them): a hello that arrived while the worker was
// busy past its deadline still counts.
std::size_t EventLoop::turn(std::optional<Clock::time_point> wait_until) {
  if (!discarded_.empty()) {
    // Moved out first: a callback's destructor may cancel another timer, adding to discarded_.
    auto dropped = std::move(discarded_);
    discarded_.clear();
  }
  std::size_t calls = poller_->turn(timeout_ms(wait_until));
  calls += fire_due_timers();
  calls += run_posted();
  return calls;
}

// Only what was queued when the turn began: work that posts more (a relay still pumping) lets the
// descriptors and timers have their turn in between.
std::size_t EventLoop::run_posted() {
  if (posted_.empty()) return 0;
  std::vector<std::function<void()>> work;
  work.swap(posted_);
  for (auto& w : work) w();
  const std::size_t n = work.size();
  work.clear();  // the callbacks' destructors may post
  // Keep the larger buffer for the next turn's posts instead of allocating again.
  if (posted_.empty()) posted_.swap(work);
  return n;
}

// A callback may arm, cancel or destroy timers (its own included); the count bounds a callback that keeps
// re-arming an expired deadline.
std::size_t EventLoop::fire_due_timers() {
  const auto now = Clock::now();
  std::size_t fired = 0;
  for (std::size_t left = timers_.size(); left > 0 && !timers_.empty(); --left) {
    LoopTimer* t = timers_.front();
    if (t->deadline_ > now) break;
    unschedule(*t);
    auto callback = std::move(t->on_expiry_);
    t->on_expiry_ = nullptr;
    callback();
    ++fired;
  }
  return fired;
}

int EventLoop::timeout_ms(std::optional<Clock::time_point> wait_until) const {
  if (!posted_.empty() || stopped()) return 0;
  std::optional<Clock::time_point> until = wait_until;
  if (!timers_.empty() && (!until || timers_.front()->deadline_ < *until)) until = timers_.front()->deadline_;
  if (!until) return -1;
  const auto left = *until - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Rounded up: waking before the deadline would only wait again.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<int>(std::min<std::int64_t>(ms, std::numeric_limits<int>::max()));
}

void EventLoop::schedule(LoopTimer& t) {
  timers_.push_back(&t);
  t.heap_index_ = timers_.size() - 1;
  sift_up(t.heap_index_);
}

void EventLoop::unschedule(LoopTimer& t) {
  const std::size_t i = t.heap_index_;
  t.heap_index_ = LoopTimer::kNotQueued;
  LoopTimer* last = timers_.back();
  timers_.pop_back();
  if (i == timers_.size()) return;  // it was the last
  place(i, last);
  sift_up(i);
  sift_down(last->heap_index_);
}

void EventLoop::place(std::size_t i, LoopTimer* t) {
  timers_[i] = t;
  t->heap_index_ = i;
}

void EventLoop::sift_up(std::size_t i) {
  LoopTimer* t = timers_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(t->deadline_ < timers_[parent]->deadline_)) break;
    place(i, timers_[parent]);
    i = parent;
  }
  place(i, t);
}

void EventLoop::sift_down(std::size_t i) {
  LoopTimer* t = timers_[i];
  const std::size_t n = timers_.size();
  while (true) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && timers_[child + 1]->deadline_ < timers_[child]->deadline_) ++child;
    if (!(timers_[child]->deadline_ < t->deadline_)) break;
    place(i, timers_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace sixgate::proxy
