#pragma once
// What ended connections came to, since start, for `sixgate-proxy status`: how many were relayed, refused
// or stopped, why (the reason up to its first ':', e.g. "refused_address"), and the bytes relayed each way.
// One tally per worker, written by that worker when an access-log line is written and read by the main thread
// when status is asked for: its own mutex, so the two never contend with another worker.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace sixgate::proxy {

struct TallyTotals {
  std::uint64_t relayed = 0, refused = 0, stopped = 0;
  std::uint64_t up_bytes = 0,
                down_bytes = 0;  // client -> backend (with the replayed hello), backend -> client
  std::map<std::string, std::uint64_t, std::less<>> reasons;
  TallyTotals& operator+=(const TallyTotals& other);
};

class ConnectionTally {
 public:
  // `outcome` as on the access-log line: "relayed", "refused" or "stopped".
  void add(std::string_view outcome, std::string_view reason, std::uint64_t up, std::uint64_t down);
  TallyTotals totals() const;

 private:
  mutable std::mutex m_;
  TallyTotals totals_;
};

// "refused_address:outside_backend_cidr" -> "refused_address"; a reason without ':' is its own category.
std::string_view reason_category(std::string_view reason);

}  // namespace sixgate::proxy
