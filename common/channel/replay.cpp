#include "common/channel/replay.hpp"

#include <algorithm>

namespace sixgate::channel {

WallMicros wall_clock_micros() {
  auto since = std::chrono::system_clock::now().time_since_epoch();
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(since).count();
  return us < 0 ? 0 : static_cast<WallMicros>(us);
}

ReplayWindow::ReplayWindow(WallMicros floor, std::chrono::microseconds window,
                           std::size_t max_senders_per_site)
    : floor_(floor),
      window_us_(static_cast<std::uint64_t>(std::max<std::int64_t>(0, window.count()))),
      max_senders_(std::max<std::size_t>(1, max_senders_per_site)) {}

std::optional<DropReason> ReplayWindow::check(const std::string& site, const std::string& sender,
                                              std::uint64_t counter, WallMicros now) const {
  const std::uint64_t distance = counter > now ? counter - now : now - counter;
  if (distance > window_us_) return DropReason::stale;
  if (counter < floor_) return DropReason::replay;
  auto s = sites_.find(site);
  if (s == sites_.end()) return std::nullopt;
  auto e = s->second.find(sender);
  if (e == s->second.end()) return std::nullopt;
  if (counter <= e->second.last_counter) return DropReason::replay;
  return std::nullopt;
}

void ReplayWindow::accept(const std::string& site, const std::string& sender, std::uint64_t counter,
                          WallMicros now) {
  auto& senders = sites_[site];
  auto it = senders.find(sender);
  if (it == senders.end()) {
    if (senders.size() >= max_senders_) {
      auto oldest = std::min_element(senders.begin(), senders.end(), [](const auto& a, const auto& b) {
        return a.second.last_heard < b.second.last_heard;
      });
      // Forgetting the least recently heard sender loses its last counter: its messages of the last `window`
      // could be accepted once more. Only key holders create entries, so this needs many live senders.
      senders.erase(oldest);
    }
    it = senders.emplace(sender, Entry{}).first;
  }
  it->second.last_counter = std::max(it->second.last_counter, counter);
  it->second.last_heard = now;
}

std::size_t ReplayWindow::tracked_senders() const {
  std::size_t n = 0;
  for (const auto& [site, senders] : sites_) n += senders.size();
  return n;
}

std::uint64_t SendCounter::next(WallMicros now) {
  last_ = std::max(last_ + 1, now);
  return last_;
}

}  // namespace sixgate::channel
