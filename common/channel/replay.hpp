#pragma once
// Replay protection for authenticated messages (docs/channel-protocol.md, "Replay protection").
//
// The counter of every message is the sender's wall-clock time in microseconds, made strictly increasing
// (see SendCounter). A receiver accepts a message when
//   1. |counter - now| <= window (default 30 s), else "stale";
//   2. counter > the last counter accepted from the same (site, sender), else "replay";
//   3. counter >= the receiver's own start time (the floor), else "replay": a message recorded before a
//      receiver restart cannot be replayed to the fresh process, whose table is empty.
// Pure: the caller passes `now`. At most `max_senders_per_site` senders are tracked per site (the least
// recently heard one is forgotten first; only authenticated messages create entries).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/channel/protocol.hpp"

namespace sixgate::channel {

using WallMicros = std::uint64_t;  // microseconds since the Unix epoch

WallMicros wall_clock_micros();

class ReplayWindow {
 public:
  ReplayWindow(WallMicros floor, std::chrono::microseconds window = kTimestampWindow,
               std::size_t max_senders_per_site = 16);

  // nullopt: acceptable (nothing recorded yet); else the reason to drop.
  std::optional<DropReason> check(const std::string& site, const std::string& sender, std::uint64_t counter,
                                  WallMicros now) const;
  // Records an accepted counter.
  void accept(const std::string& site, const std::string& sender, std::uint64_t counter, WallMicros now);

  std::size_t tracked_senders() const;

 private:
  struct Entry {
    std::uint64_t last_counter = 0;
    WallMicros last_heard = 0;
  };
  WallMicros floor_;
  std::uint64_t window_us_;
  std::size_t max_senders_;
  std::map<std::string, std::map<std::string, Entry>> sites_;
};

// A sender's counter: max(previous + 1, wall clock in microseconds). Seeding from the clock means a restarted
// sender continues above everything it sent before (as long as the clock did not step back).
class SendCounter {
 public:
  std::uint64_t next(WallMicros now);
  std::uint64_t next() { return next(wall_clock_micros()); }

 private:
  std::uint64_t last_ = 0;
};

}  // namespace sixgate::channel
