#pragma once
// Runs an event loop in short slices until `done` says so, bounded so that a bug fails a test instead of
// hanging it.
#include <chrono>
#include <functional>

#include "proxy/event_loop.hpp"

namespace sixgate::proxy::test {

inline bool run_until(EventLoop& loop, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    loop.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sixgate::proxy::test
