#pragma once
// Capped exponential backoff with full jitter: a delay drawn uniformly from [0, min(cap, base * 2^attempt)].
#include <algorithm>
#include <chrono>
#include <random>

namespace sixgate::agent::routeros {

inline std::chrono::milliseconds backoff_ceiling(int attempt, std::chrono::milliseconds base,
                                                 std::chrono::milliseconds cap) {
  std::chrono::milliseconds ceiling = base;
  for (int i = 0; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  return std::min(ceiling, cap);
}

template <class Rng>
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, Rng& rng) {
  auto ceiling = backoff_ceiling(attempt, base, cap).count();
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<long long> dist(0, ceiling);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace sixgate::agent::routeros
