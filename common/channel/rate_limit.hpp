#pragma once
// A token bucket for logging dropped datagrams at a bounded rate. Pure: the caller passes steady time.
#include <chrono>
#include <cstdint>

namespace sixgate::channel {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double capacity, double per_second)
      : capacity_(capacity), rate_(per_second), tokens_(capacity) {}

  // True when one event may pass now; otherwise the event is counted as suppressed.
  bool allow(Clock::time_point now);
  // Events refused since the last call that returned them (the next allowed log line reports the count).
  std::uint64_t take_suppressed();

 private:
  double capacity_, rate_, tokens_;
  Clock::time_point last_{};
  bool started_ = false;
  std::uint64_t suppressed_ = 0;
};

}  // namespace sixgate::channel
