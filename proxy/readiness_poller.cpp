#include "proxy/readiness_poller.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace sixgate::proxy {

namespace {
constexpr int kBatch = 256;
constexpr std::uint32_t kOutputAndClose = EPOLLOUT | EPOLLRDHUP | EPOLLET;
// Full batches in a row before the poller lets the io_context's other work (accepts, timers) run; the events
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

Result<std::unique_ptr<ReadinessPoller>> ReadinessPoller::create(boost::asio::io_context& io) {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return make_error(std::string("epoll_create1: ") + std::strerror(errno));
  return std::unique_ptr<ReadinessPoller>(new ReadinessPoller(io, fd));
}

ReadinessPoller::ReadinessPoller(boost::asio::io_context& io, int epoll_fd)
    : epoll_fd_(epoll_fd), waiter_(io, epoll_fd) {}

ReadinessPoller::~ReadinessPoller() {
  boost::system::error_code ignored;
  waiter_.close(ignored);  // closes epoll_fd_; the listeners (and the sockets they own) go with entries_
}

Result<ReadinessPoller::Token> ReadinessPoller::watch(int fd, std::shared_ptr<Listener> listener,
                                                      std::uint32_t tag) {
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
  ev.events = EPOLLIN | kOutputAndClose;
  ev.data.u64 = make_token(index, e.generation);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    free_.push_back(index);
    return make_error(std::string("epoll_ctl(ADD): ") + std::strerror(err));
  }
  e.listener = std::move(listener);
  e.tag = tag;
  joined_this_turn_ = true;
  if (!collecting_) arm();  // else collect() arms once the turn is over
  return ev.data.u64;
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
  epoll_event ev{};
  ev.events = wanted ? EPOLLIN | kOutputAndClose : kOutputAndClose;
  ev.data.u64 = token;
  return ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void ReadinessPoller::forget(Token token) {
  Entry* e = live_entry(token);
  if (!e) return;
  ++e->generation;
  e->listener.reset();
  free_.push_back(index_of(token));
}

void ReadinessPoller::arm() {
  if (armed_) return;
  armed_ = true;
  waiter_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this](const boost::system::error_code& ec) {
                       armed_ = false;
                       if (ec) return;  // closed: the poller is going away
                       collect();
                     });
}

// A socket that joins the set during a turn (an accepted client, a backend whose connect() finished inside
// the call, as it does over a veth or loopback) reports its first edge at once. Collecting again before the
// turn ends hands that edge over now instead of after another round trip through the io_context's reactor.
void ReadinessPoller::collect() {
  std::array<epoll_event, kBatch> events;
  collecting_ = true;
  for (int batch = 0; batch < kBatchesPerTurn; ++batch) {
    joined_this_turn_ = false;
    const int n = ::epoll_wait(epoll_fd_, events.data(), kBatch, 0);
    for (int i = 0; i < n; ++i) {
      const Entry* entry = live_entry(events[i].data.u64);
      if (!entry) continue;  // forgotten earlier in this turn
      // Copies: the call may forget this entry (dropping the poller's reference) or watch new ones (moving
      // entries_).
      auto listener = entry->listener;
      listener->on_ready(entry->tag, events[i].events);
    }
    // n < 0 is EINTR at worst (timeout 0): the re-armed wait tries again
    if (n < kBatch && !joined_this_turn_) break;
  }
  collecting_ = false;
  if (watched() > 0) arm();
}

}  // namespace sixgate::proxy
