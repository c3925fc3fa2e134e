#include "proxy/readiness_poller.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace sixgate::proxy {

namespace {
constexpr int kBatch = 256;
constexpr std::uint32_t kOutputAndClose = EPOLLOUT | EPOLLRDHUP | EPOLLET;
// Full batches in a row before the poller lets the loop's other work (posted work, timers) run; the events
// left stay in the set and come back at once.
constexpr int kBatchesPerTurn = 4;

ReadinessPoller::Token make_token(std::uint32_t index, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(generation) << 32) | index;
}
std::uint32_t index_of(ReadinessPoller::Token token) {
  return static_cast<std::uint32_t>(token);
}
}  // namespace

void Readiness::note(std::uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable = true;  // the call reports EOF/errors
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_closed = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable = true;
}

Result<std::unique_ptr<ReadinessPoller>> ReadinessPoller::create() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return make_error(std::string("epoll_create1: ") + std::strerror(errno));
  return std::unique_ptr<ReadinessPoller>(new ReadinessPoller(fd));
}

ReadinessPoller::~ReadinessPoller() {
  ::close(epoll_fd_);  // the listeners (and the sockets they own) go with entries_
}

Result<ReadinessPoller::Token> ReadinessPoller::watch(int fd, std::shared_ptr<Listener> listener,
                                                      std::uint32_t tag, FirstReport first) {
  return add(fd, EPOLLIN | kOutputAndClose, std::move(listener), tag, first);
}

Result<ReadinessPoller::Token> ReadinessPoller::watch_level(int fd, std::uint32_t events,
                                                            std::shared_ptr<Listener> listener,
                                                            std::uint32_t tag) {
  return add(fd, events, std::move(listener), tag, FirstReport::next_turn);
}

Result<ReadinessPoller::Token> ReadinessPoller::add(int fd, std::uint32_t events,
                                                    std::shared_ptr<Listener> listener, std::uint32_t tag,
                                                    FirstReport first) {
  std::uint32_t index;
  if (free_.empty()) {
    index = static_cast<std::uint32_t>(entries_.size());
    entries_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
  }
  Entry& e = entries_[index];
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = make_token(index, e.generation);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    free_.push_back(index);
    return make_error(std::string("epoll_ctl(ADD): ") + std::strerror(err));
  }
  e.listener = std::move(listener);
  e.tag = tag;
  if (first == FirstReport::this_turn) joined_this_turn_ = true;
  return ev.data.u64;
}

bool ReadinessPoller::set_level_events(Token token, int fd, std::uint32_t events) {
  return modify(token, fd, events);
}

bool ReadinessPoller::modify(Token token, int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

ReadinessPoller::Entry* ReadinessPoller::live_entry(Token token) {
  const auto index = index_of(token);
  if (index >= entries_.size() || entries_[index].generation != static_cast<std::uint32_t>(token >> 32))
    return nullptr;
  return &entries_[index];
}

void ReadinessPoller::hand_over(Token token, std::shared_ptr<Listener> listener, std::uint32_t tag) {
  Entry* e = live_entry(token);
  if (!e) return;
  e->listener = std::move(listener);
  e->tag = tag;
}

void ReadinessPoller::unwatch(Token token, int fd) {
  if (!live_entry(token)) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);  // fails only if it is not in the set: then it is out
  forget(token);
}

bool ReadinessPoller::want_input(Token token, int fd, bool wanted) {
  return modify(token, fd, wanted ? EPOLLIN | kOutputAndClose : kOutputAndClose);
}

void ReadinessPoller::forget(Token token) {
  Entry* e = live_entry(token);
  if (!e) return;
  ++e->generation;
  e->listener.reset();
  free_.push_back(index_of(token));
}

void ReadinessPoller::forget_all_except(Token keep) {
  for (std::uint32_t i = 0; i < entries_.size(); ++i) {
    if (!entries_[i].listener || make_token(i, entries_[i].generation) == keep) continue;
    forget(make_token(i, entries_[i].generation));
  }
}

// A socket that joins the set during a turn reports its first edge at once; for one that asked for it
// (FirstReport::this_turn), collecting again before the turn ends hands that edge over now instead of on the
// loop's next turn.
std::size_t ReadinessPoller::turn(int timeout_ms) {
  std::array<epoll_event, kBatch> events;
  std::size_t calls = 0;
  ++turns_;
  for (int batch = 0; batch < kBatchesPerTurn; ++batch) {
    joined_this_turn_ = false;
    const int n = ::epoll_wait(epoll_fd_, events.data(), kBatch, batch == 0 ? timeout_ms : 0);
    for (int i = 0; i < n; ++i) {
      const Entry* entry = live_entry(events[i].data.u64);
      if (!entry) continue;  // forgotten earlier in this turn
      // Copies: the call may forget this entry (dropping the poller's reference) or watch new ones (moving
      // entries_).
      auto listener = entry->listener;
      listener->on_ready(entry->tag, events[i].events);
      ++calls;
    }
    // n < 0 is EINTR (a signal): the loop's next turn waits again
    if (n < kBatch && !joined_this_turn_) break;
  }
  return calls;
}

}  // namespace sixgate::proxy
