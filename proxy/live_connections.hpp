#pragma once
// A worker's live connections, so that those still open at the drain deadline can be ended, each with its
// access-log line. Touched only by the worker's own thread. Entries are weak (the registry never keeps a
// connection alive) and are removed explicitly when a connection ends, so a finished connection leaves
// nothing behind but a free slot.
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

namespace sixgate::proxy {

// A connection before its relay starts, or a relay.
class Stoppable {
 public:
  virtual ~Stoppable() = default;
  // Ends it now; its access-log line says outcome=stopped, reason=`reason`.
  virtual void stop(std::string_view reason) = 0;
};

class LiveConnections {
 public:
  using Slot = std::size_t;

  Slot add(std::weak_ptr<Stoppable> c) {
    if (free_.empty()) {
      slots_.push_back(std::move(c));
      return slots_.size() - 1;
    }
    Slot s = free_.back();
    free_.pop_back();
    slots_[s] = std::move(c);
    return s;
  }
  // The same connection, now served by another object (a connection hands over to its relay).
  void replace(Slot s, std::weak_ptr<Stoppable> c) { slots_[s] = std::move(c); }
  void remove(Slot s) {
    slots_[s].reset();
    free_.push_back(s);
  }
  std::size_t size() const { return slots_.size() - free_.size(); }

  // Stops every live connection; returns how many there were. Stopping one removes it (through remove()).
  std::size_t stop_all(std::string_view reason) {
    std::size_t stopped = 0;
    for (Slot s = 0; s < slots_.size(); ++s) {
      if (auto c = slots_[s].lock()) {
        c->stop(reason);
        ++stopped;
      }
    }
    return stopped;
  }

 private:
  std::vector<std::weak_ptr<Stoppable>> slots_;
  std::vector<Slot> free_;
};

}  // namespace sixgate::proxy
