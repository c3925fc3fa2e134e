#pragma once
// Edge-triggered readiness for a worker's sockets (listeners, clients, backends), beside Asio's reactor
// rather than inside it. Asio 1.18 registers a socket, re-arms it (epoll_ctl EPOLL_CTL_MOD) on every
// async_wait, and deletes it again before release() or close. Here a socket joins one epoll set once, for
// input, output and peer close, edge-triggered, and stays there until its descriptor is closed, which takes
// it out of the set; the owner keeps track of what is ready (as nginx does). A connection's sockets join at
// accept and at connect and are handed from the connection to its relay without leaving. The worker's
// EventLoop waits on the set itself (turn()), so everything runs on the worker's thread.
#include <sys/epoll.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/result.hpp"

namespace sixgate::proxy {

// What one socket's edges have reported that no call has used up yet: an edge said it was ready, and no call
// has said EAGAIN since. The owner clears a flag when a call says EAGAIN (or reads short).
struct Readiness {
  bool readable = false;
  bool writable = false;
  // A hang-up or an error was reported: read until the call says so, a short read is not the end.
  bool peer_closed = false;
  void note(std::uint32_t events);  // the EPOLL* bits of one report
};

class ReadinessPoller {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // `tag` as given to watch(); `events` the EPOLL* bits that were reported.
    virtual void on_ready(std::uint32_t tag, std::uint32_t events) = 0;
  };
  using Token = std::uint64_t;
  // When a socket that joins during a turn is first reported. this_turn: the poller collects once more
  // before the turn ends, for a socket that is likely ready already (a backend whose connect() returned
  // EINPROGRESS may have finished inside the call, as over a veth or loopback). next_turn: with the next
  // epoll_wait, which the loop makes anyway (an accepted client, whose hello has rarely come yet).
  enum class FirstReport { next_turn, this_turn };

  static Result<std::unique_ptr<ReadinessPoller>> create();
  ~ReadinessPoller();
  ReadinessPoller(const ReadinessPoller&) = delete;
  ReadinessPoller& operator=(const ReadinessPoller&) = delete;

  // Adds `fd`; from the next turn, its events go to listener->on_ready(tag, …), which the
  // poller keeps alive until forget(). An fd that is already ready is reported at once. The descriptor must
  // not be duplicated (dup, fork): closing it is what removes it from the set.
  Result<Token> watch(int fd, std::shared_ptr<Listener> listener, std::uint32_t tag,
                      FirstReport first = FirstReport::next_turn);
  // Level-triggered, for exactly `events` (EPOLLIN, EPOLLOUT; 0 for none but errors), changed with
  // set_level_events(): reported on every turn while they hold. For a socket someone else reads (c-ares)
  // or one whose reports may be left pending (a listener).
  Result<Token> watch_level(int fd, std::uint32_t events, std::shared_ptr<Listener> listener,
                            std::uint32_t tag);
  bool set_level_events(Token token, int fd, std::uint32_t events);
  // From now on the token's events, including those already collected in the current turn, go to
  // listener->on_ready(tag, …) instead: a socket changes owner without leaving the set, so no edge is lost
  // and no system call is made.
  void hand_over(Token token, std::shared_ptr<Listener> listener, std::uint32_t tag);
  // No more calls for this token, including events already collected in the current turn. Call it before
  // closing the descriptor.
  void forget(Token token);
  // forget() for a descriptor that is (or may be) duplicated, such as a listening socket inherited from
  // systemd and dup()ed per worker: closing one copy would not take it out of the set, so it leaves
  // explicitly.
  void unwatch(Token token, int fd);
  // Whether the set reports input on `fd` (output, peer close and errors are always reported): an owner that
  // will not read a socket for a while turns input off so arriving bytes do not wake the worker. Turning it
  // back on reports the socket at once if bytes are waiting. False with errno set if the kernel refused.
  bool want_input(Token token, int fd, bool wanted);
  // Waits up to `timeout_ms` (-1: no limit) for events and hands them out; collects again at once while
  // batches come back full or sockets joined meanwhile (bounded). Returns the calls made.
  std::size_t turn(int timeout_ms);
  // For a loop going away: forgets every token but `keep`, dropping the listeners (and what they own).
  void forget_all_except(Token keep);
  std::uint64_t turns() const { return turns_; }  // turn() calls so far
  int descriptor() const { return epoll_fd_; }    // for tests that read the kernel's view of the set
  std::size_t watched() const { return entries_.size() - free_.size(); }

 private:
  struct Entry {
    std::shared_ptr<Listener> listener;
    std::uint32_t tag = 0;
    std::uint32_t generation = 0;  // bumped on forget(): a stale event's token no longer matches
  };

  explicit ReadinessPoller(int epoll_fd) : epoll_fd_(epoll_fd) {}
  Entry* live_entry(Token token);                          // nullptr once forgotten
  bool modify(Token token, int fd, std::uint32_t events);  // EPOLL_CTL_MOD
  Result<Token> add(int fd, std::uint32_t events, std::shared_ptr<Listener> listener, std::uint32_t tag,
                    FirstReport first);

  int epoll_fd_;
  std::uint64_t turns_ = 0;
  bool joined_this_turn_ = false;  // a FirstReport::this_turn socket joined: see turn()
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> free_;
};

}  // namespace sixgate::proxy
