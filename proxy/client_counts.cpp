#include "proxy/client_counts.hpp"

#include <netinet/in.h>

#include <functional>
#include <utility>

#include "proxy/sockets.hpp"

namespace sixgate::proxy {

std::optional<ClientKey> client_key(const sockaddr_storage& peer) {
  if (auto v4 = client_ipv4(peer)) return ClientKey{.v6 = false, .bits = v4->to_uint()};
  if (peer.ss_family != AF_INET6) return std::nullopt;
  const auto bytes = Ipv6Address::from_sockaddr(reinterpret_cast<const sockaddr_in6&>(peer)).bytes();
  std::uint64_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) prefix = prefix << 8 | bytes[i];
  return ClientKey{.v6 = true, .bits = prefix};
}

std::size_t ClientCounts::KeyHash::operator()(const ClientKey& k) const {
  return std::hash<std::uint64_t>{}(k.bits) ^ (k.v6 ? 0x9e3779b97f4a7c15u : 0u);
}

ClientCounts::Shard& ClientCounts::shard_of(const ClientKey& key) {
  // std::hash of an integer is the integer itself here: mix, so that neighbouring addresses spread.
  std::uint64_t x = key.bits * 0x9e3779b97f4a7c15u;
  return shards_[(x >> 60) % kShards];
}

std::optional<ClientCounts::Slot> ClientCounts::try_take(const sockaddr_storage& peer, std::size_t limit) {
  if (limit == 0) return Slot();
  const auto key = client_key(peer);
  if (!key) return Slot();
  Shard& s = shard_of(*key);
  std::lock_guard lock(s.m);
  std::size_t& n = s.counts[*key];
  if (n >= limit) return std::nullopt;  // n > 0 here, so no empty entry stays behind
  ++n;
  return Slot(this, *key);
}

void ClientCounts::give_back(const ClientKey& key) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.m);
  auto it = s.counts.find(key);
  if (it != s.counts.end() && --it->second == 0) s.counts.erase(it);
}

std::size_t ClientCounts::count(const ClientKey& key) {
  Shard& s = shard_of(key);
  std::lock_guard lock(s.m);
  auto it = s.counts.find(key);
  return it == s.counts.end() ? 0 : it->second;
}

std::size_t ClientCounts::clients() {
  std::size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.m);
    n += s.counts.size();
  }
  return n;
}

ClientCounts::Slot::Slot(Slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), key_(other.key_) {}

ClientCounts::Slot& ClientCounts::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (owner_) owner_->give_back(key_);
    owner_ = std::exchange(other.owner_, nullptr);
    key_ = other.key_;
  }
  return *this;
}

ClientCounts::Slot::~Slot() {
  if (owner_) owner_->give_back(key_);
}

}  // namespace sixgate::proxy
