#pragma once
// The byte relay between a routed client and its backend, driven by edge-triggered readiness from the
// worker's ReadinessPoller. Each direction starts by copying (recv into a stack buffer, send at once) and
// switches to splice(2) through a pooled pipe once one read fills that buffer: small flights (TLS handshakes,
// requests) cost less copied than spliced, bulk costs less spliced. A direction that cannot splice (no pipe
// to be had, a socket type splice refuses) keeps copying. A direction that reaches EOF on its source shuts
// down writing on its destination once everything read has been sent (half-close goes both ways); the relay
// ends when both directions have, or on the first error, or after `idle_timeout` without a byte moving
// (0 = never). A direction waiting for its destination parks its source (the poller stops reporting the
// source's input) so the source's arriving bytes do not wake the worker meanwhile.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proxy/event_loop.hpp"
#include "proxy/live_connections.hpp"
#include "proxy/pipe_pool.hpp"
#include "proxy/readiness_poller.hpp"

namespace sixgate::proxy {

struct RelayResult {
  std::uint64_t client_to_backend = 0;
  std::uint64_t backend_to_client = 0;
  // "closed" (both sides finished), "idle_timeout", "<side>_error:<errno text>", or stop()'s reason
  std::string outcome;
  bool stopped = false;  // ended by stop(), not by the peers or the idle timeout
};

// A socket that is already in the poller's set (the connection phase watched it), with what its edges have
// reported that no call has used up yet. The relay takes the token over: the socket never leaves the set.
struct WatchedSocket {
  int fd = -1;
  ReadinessPoller::Token token = 0;
  Readiness ready{};
};

// Takes ownership of both sockets, which must be connected, non-blocking stream sockets in the set of
// `loop`'s poller that no one else holds (not registered with an io_context, not duplicated).
class Relay : public std::enable_shared_from_this<Relay>, public Stoppable, public ReadinessPoller::Listener {
 public:
  using Done = std::function<void(const RelayResult&)>;

  // start() takes the sockets' tokens over from their current listener.
  Relay(const WatchedSocket& client, const WatchedSocket& backend, PipePool& pipes, EventLoop& loop,
        std::chrono::milliseconds idle_timeout, Done done);
  ~Relay() override;
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  void start();
  void stop(std::string_view reason) override;  // closes both sockets; Done runs once, with stopped set
  void on_ready(std::uint32_t tag, std::uint32_t events) override;

 private:
  // copy: small flights so far; bulk: a read filled the copy buffer, splice once nothing is held;
  // splice; copy_only: splice is not possible here.
  enum class Mode : std::uint8_t { copy, bulk, splice, copy_only };
  struct Side {
    int fd = -1;
    const char* name;
    Readiness ready{};
    ReadinessPoller::Token token = 0;
  };
  struct Direction {
    Side* src;
    Side* dst;
    Mode mode = Mode::copy;
    std::optional<Pipe> pipe;  // splice mode, while bytes are in flight
    std::size_t in_pipe = 0;
    // Copy modes: what the destination did not take at once, held until it does; none while idle.
    std::unique_ptr<char[]> held;
    std::size_t held_start = 0, held_end = 0;
    std::uint64_t bytes = 0;
    bool eof = false, finished = false;
    // The source's FIN has come and a read stopped short of what it asked for: the reads ahead reach EOF
    // without waiting for the network, and the shutdown or close that follows sends our FIN. Until then the
    // destination holds back its last part-filled segment (MSG_MORE), so the FIN rides on it instead of
    // costing a segment (and the peer an ACK) of its own.
    bool fin_behind = false;
    bool src_parked = false;  // the poller does not report the source's input (see settle)
    bool holding() const { return in_pipe > 0 || held_start < held_end; }
  };
  enum class Step { progress, blocked, over };

  void pump(Direction& d);
  Step step_splice(Direction& d);
  Step step_copy(Direction& d);
  Step send_held(Direction& d);
  std::optional<std::size_t> send_to_destination(Direction& d, const char* data, std::size_t size);
  static int more_flag(const Direction& d, int flag) { return d.fin_behind ? flag : 0; }
  Step end_of_direction(Direction& d);
  bool settle(Direction& d);  // parks or unparks the source for the wait ahead; true: try again first
  void fail(const Side& side, int err);
  void finish(const std::string& outcome, bool stopped = false);  // stopped: by stop()
  void arm_idle_timer();

  Side client_, backend_;
  PipePool& pipes_;
  EventLoop& loop_;
  std::chrono::milliseconds idle_timeout_;
  Done done_;
  Direction up_, down_;
  std::optional<LoopTimer> idle_timer_;  // only with an idle timeout
  std::chrono::steady_clock::time_point last_activity_;
  bool continuation_posted_ = false;
  bool over_ = false;
};

}  // namespace sixgate::proxy
