#pragma once
// What a connection borrows from the worker thread it runs on. Everything here is touched only by that
// thread, except `active`, which counts connections across all workers (for --max-connections and draining),
// `clients`, their counts per client address (--max-connections-per-client; locked inside), and `tally`.
#include <atomic>
#include <cstddef>
#include <memory>

#include "proxy/client_counts.hpp"
#include "proxy/config.hpp"
#include "proxy/connection_tally.hpp"
#include "proxy/core/policy.hpp"
#include "proxy/event_loop.hpp"
#include "proxy/live_connections.hpp"
#include "proxy/pipe_pool.hpp"
#include "proxy/resolver.hpp"

namespace sixgate::proxy {

// One loaded configuration; SIGHUP swaps in a new snapshot, connections keep the one they started with.
struct RuntimeConfig {
  ProxyConfig config;
  BackendPolicy policy;
  explicit RuntimeConfig(ProxyConfig c)
      : config(std::move(c)), policy(config.backend_cidr6, config.backend_cidr4, config.nat46_prefix) {}
};

struct WorkerContext {
  EventLoop& loop;
  std::shared_ptr<const RuntimeConfig> runtime;
  std::shared_ptr<Resolver> resolver;
  PipePool pipes;
  std::atomic<std::size_t>& active;
  ClientCounts& clients;
  LiveConnections live;
  ConnectionTally tally;  // read by the main thread for status (locked inside)
};

}  // namespace sixgate::proxy
