#pragma once
// Open connections per client across all workers, for --max-connections-per-client: one address must not
// take every place --max-connections allows. SO_REUSEPORT spreads a client's connections over all workers,
// so the counts are shared between threads: sharded maps, each behind its own mutex, held for one map
// operation when a connection is accepted and when it ends (the only lock on a connection's path).
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace sixgate::proxy {

// The unit a client is counted by: its IPv4 address (also as ::ffff:a.b.c.d), or the /64 of an IPv6 one,
// since one host or site usually holds a whole /64 and can pick any address in it.
struct ClientKey {
  bool v6 = false;
  std::uint64_t bits = 0;  // the IPv4 address, or the first 64 bits of the IPv6 one
  bool operator==(const ClientKey&) const = default;
};
// nullopt for a peer with no IP address (a unix socket): not counted.
std::optional<ClientKey> client_key(const sockaddr_storage& peer);

class ClientCounts {
 public:
  // One counted connection; gives its place back when destroyed. An empty slot counts nothing.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();

   private:
    friend class ClientCounts;
    Slot(ClientCounts* owner, ClientKey key) : owner_(owner), key_(key) {}
    ClientCounts* owner_ = nullptr;
    ClientKey key_;
  };

  // A slot for the client `peer` is, or nullopt when it already holds `limit` connections. `limit` 0 means
  // no limit: an empty slot, nothing looked up.
  std::optional<Slot> try_take(const sockaddr_storage& peer, std::size_t limit);
  std::size_t count(const ClientKey& key);
  std::size_t clients();  // keys with at least one connection

 private:
  struct KeyHash {
    std::size_t operator()(const ClientKey& k) const;
  };
  struct Shard {
    std::mutex m;
    std::unordered_map<ClientKey, std::size_t, KeyHash> counts;
  };
  static constexpr std::size_t kShards = 16;
  Shard& shard_of(const ClientKey& key);
  void give_back(const ClientKey& key);

  std::array<Shard, kShards> shards_;
};

}  // namespace sixgate::proxy
