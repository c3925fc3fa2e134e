#include "proxy/connection_tally.hpp"

namespace sixgate::proxy {

TallyTotals& TallyTotals::operator+=(const TallyTotals& other) {
  relayed += other.relayed;
  refused += other.refused;
  stopped += other.stopped;
  up_bytes += other.up_bytes;
  down_bytes += other.down_bytes;
  for (const auto& [reason, n] : other.reasons) reasons[reason] += n;
  return *this;
}

std::string_view reason_category(std::string_view reason) {
  return reason.substr(0, reason.find(':'));
}

void ConnectionTally::add(std::string_view outcome, std::string_view reason, std::uint64_t up,
                          std::uint64_t down) {
  std::lock_guard lock(m_);
  if (outcome == "relayed")
    ++totals_.relayed;
  else if (outcome == "refused")
    ++totals_.refused;
  else
    ++totals_.stopped;
  totals_.up_bytes += up;
  totals_.down_bytes += down;
  const auto category = reason_category(reason);
  if (auto it = totals_.reasons.find(category); it != totals_.reasons.end())
    ++it->second;
  else
    totals_.reasons.emplace(std::string(category), 1);
}

TallyTotals ConnectionTally::totals() const {
  std::lock_guard lock(m_);
  return totals_;
}

}  // namespace sixgate::proxy
