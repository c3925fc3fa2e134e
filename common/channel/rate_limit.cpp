#include "common/channel/rate_limit.hpp"

#include <algorithm>

namespace sixgate::channel {

bool TokenBucket::allow(Clock::time_point now) {
  if (started_ && now > last_) {
    std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(capacity_, tokens_ + elapsed.count() * rate_);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  ++suppressed_;
  return false;
}

std::uint64_t TokenBucket::take_suppressed() {
  auto n = suppressed_;
  suppressed_ = 0;
  return n;
}

}  // namespace sixgate::channel
