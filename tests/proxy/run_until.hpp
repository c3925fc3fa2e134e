#pragma once
// Runs an io_context in short slices until `done` says so, bounded so that a bug fails a test instead of
// hanging it.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

namespace sixgate::proxy::test {

inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace sixgate::proxy::test
