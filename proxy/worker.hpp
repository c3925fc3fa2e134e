#pragma once
// A worker thread: its own event loop, resolver, pipe pool, and one listener per -listen (its own
// SO_REUSEPORT socket for tcp:, a dup of the shared socket for fd:). All of its connections live on its
// thread.
#include <sys/socket.h>

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "proxy/accept_loop.hpp"
#include "proxy/worker_context.hpp"

namespace sixgate::proxy {

class Worker {
 public:
  Worker(unsigned index, std::unique_ptr<EventLoop> loop, std::shared_ptr<const RuntimeConfig> runtime,
         std::atomic<std::size_t>& active, ClientCounts& clients);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before start(): open this worker's listeners and resolver. Errors name the -listen value.
  Status prepare();
  void start();  // runs the event loop on a new thread

  // Thread-safe: each posts to the worker's loop.
  void stop_accepting();
  // The future holds, once the worker has switched, whether it took all of `runtime` (an error names what
  // failed: a resolver that cannot be made keeps the whole previous configuration; listener timers that
  // could not be set are set again by the next apply, even with the same values).
  std::future<Status> apply(std::shared_ptr<const RuntimeConfig> runtime);
  // Ends every connection still open (each logs outcome=stopped with `reason`); the future holds how many.
  std::future<std::size_t> stop_connections(std::string reason);
  void stop_and_join();
  TallyTotals tally() const { return ctx_.tally.totals(); }  // thread-safe

 private:
  struct Listener {
    std::shared_ptr<AcceptLoop> loop;
    std::string text;
    std::uint16_t port = 0;
    bool tcp = true;  // false: an inherited AF_UNIX listener, which has no TCP options
  };
  void on_accepted(const Listener& l, int fd, const sockaddr_storage& peer);
  Status apply_dead_peer_timers(const DeadPeerTimers& timers);

  unsigned index_;
  std::unique_ptr<EventLoop> loop_;  // before ctx_, which borrows it, so it goes last
  WorkerContext ctx_;
  std::vector<Listener> listeners_;
  // The dead-peer timers every listener carries; nullopt once setting them failed on one, so the next
  // apply sets them again even if its values are the same.
  std::optional<DeadPeerTimers> listener_timers_;
  std::thread thread_;
};

}  // namespace sixgate::proxy
