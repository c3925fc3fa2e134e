#pragma once
// What a channel endpoint does after a failed receive (ICMP errors queued on the socket surface there): log
// at a bounded rate, then receive again after a short pause, so an error that repeats on every read neither
// spins nor floods the log.
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <functional>
#include <string_view>

#include "common/channel/rate_limit.hpp"
#include "common/log.hpp"

namespace sixgate::channel {

// `resume` runs after 100 ms unless `timer` is cancelled first; it must check that the endpoint still wants
// to receive (not stopped, same socket).
inline void pause_receive(boost::asio::steady_timer& timer, TokenBucket& log_limit,
                          spdlog::level::level_enum level, log::Field who,
                          const boost::system::error_code& error, std::function<void()> resume) {
  if (log_limit.allow(TokenBucket::Clock::now()))
    log::event(level, "channel_receive_error",
               {who, {"error", error.message()}, {"suppressed", log_limit.take_suppressed()}});
  timer.expires_after(std::chrono::milliseconds(100));
  timer.async_wait([resume = std::move(resume)](const boost::system::error_code& ec) {
    if (!ec) resume();
  });
}

}  // namespace sixgate::channel
