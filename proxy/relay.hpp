#pragma once
// The byte relay between a routed client and its backend: splice(2) through a pooled pipe per direction,
// driven by readiness waits on the worker's io_context, with a read/write copy fallback when splice is not
// possible. A direction that reaches EOF on its source shuts down writing on its destination once its pipe is
// drained (half-close goes both ways); the relay ends when both directions have, or on the first error, or
// after `idle_timeout` without a byte moving (0 = never). A direction waiting for its destination parks its
// source (a raised receive low-water mark) so the source's arriving bytes do not wake the worker meanwhile.
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proxy/live_connections.hpp"
#include "proxy/pipe_pool.hpp"

namespace sixgate::proxy {

using StreamSocket = boost::asio::generic::stream_protocol::socket;

struct RelayResult {
  std::uint64_t client_to_backend = 0;
  std::uint64_t backend_to_client = 0;
  // "closed" (both sides finished), "idle_timeout", "<side>_error:<errno text>", or stop()'s reason
  std::string outcome;
  bool stopped = false;  // ended by stop(), not by the peers or the idle timeout
};

// Both sockets must already be non-blocking (O_NONBLOCK), as an accepted socket is after its first Asio read
// and start_connect()'s sockets are from the start.
class Relay : public std::enable_shared_from_this<Relay>, public Stoppable {
 public:
  using Done = std::function<void(const RelayResult&)>;

  Relay(StreamSocket client, StreamSocket backend, PipePool& pipes, std::chrono::milliseconds idle_timeout,
        Done done);
  void start();
  void stop(std::string_view reason) override;  // closes both sockets; Done runs once, with stopped set

 private:
  struct Direction {
    StreamSocket* src;
    StreamSocket* dst;
    const char* src_name;
    const char* dst_name;
    std::optional<Pipe> pipe;
    std::size_t in_pipe = 0;
    std::uint64_t bytes = 0;
    bool eof = false, finished = false, waiting = false;
    bool src_drained = false;  // a small flight was read: wait for the source before reading again
    bool src_parked = false;   // the source's receive low-water mark is raised (see park_source)
    bool copy_mode = false;
    std::unique_ptr<char[]> buffer;  // copy mode only
    std::size_t buffer_start = 0, buffer_end = 0;
  };

  void pump(Direction& d);
  bool pump_splice(Direction& d);  // false: waiting or finished
  bool pump_copy(Direction& d);
  void wait(Direction& d, bool for_write);  // for the destination to take bytes, else for the source
  void wait_for_destination(Direction& d);
  void wait_for_source(Direction& d);
  void fail(const char* side, int err);
  void finish(const std::string& outcome, bool stopped = false);  // stopped: by stop()
  void arm_idle_timer();

  StreamSocket client_, backend_;
  PipePool& pipes_;
  std::chrono::milliseconds idle_timeout_;
  Done done_;
  Direction up_, down_;
  std::optional<boost::asio::steady_timer> idle_timer_;  // only with an idle timeout
  std::chrono::steady_clock::time_point last_activity_;
  bool over_ = false;
};

}  // namespace sixgate::proxy
