#include "proxy/worker.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "proxy/connection.hpp"
#include "proxy/sockets.hpp"

namespace sixgate::proxy {

namespace {

ResolverSettings resolver_settings(const ProxyConfig& c) {
  ResolverSettings s;
  s.servers = c.resolvers;
  return s;
}

}  // namespace

Worker::Worker(unsigned index, std::unique_ptr<EventLoop> loop, std::shared_ptr<const RuntimeConfig> runtime,
               std::atomic<std::size_t>& active, ClientCounts& clients)
    : index_(index),
      loop_(std::move(loop)),
      ctx_{.loop = *loop_,
           .runtime = std::move(runtime),
           .resolver = nullptr,
           .pipes = {},
           .active = active,
           .clients = clients,
           .live = {},
           .tally = {}} {}

Worker::~Worker() {
  stop_and_join();
  // What the loop still holds (connections, their timers) goes while ctx_, which they borrow, is intact.
  loop_->shut_down();
}

Status Worker::prepare() {
  auto resolver = Resolver::create(*loop_, resolver_settings(ctx_.runtime->config));
  if (!resolver) return resolver.error();
  ctx_.resolver = *resolver;
  for (const auto& spec : ctx_.runtime->config.listen) {
    auto fd = open_listener(spec, ctx_.runtime->config.dead_peer);
    if (!fd) return fd.error();
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(*fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      auto e = make_error("-listen " + spec.text + ": getsockname: " + std::strerror(errno));
      ::close(*fd);
      return e;
    }
    std::string text = spec.kind == ListenSpec::Kind::fd ? spec.text : to_string(ss);
    listeners_.push_back(Listener{.loop = nullptr,
                                  .text = text,
                                  .port = port_of(ss),
                                  .tcp = ss.ss_family == AF_INET || ss.ss_family == AF_INET6});
    listeners_.back().loop = std::make_shared<AcceptLoop>(
        *loop_, *fd, std::move(text), index_,
        [this, i = listeners_.size() - 1](int client_fd, const sockaddr_storage& peer) {
          on_accepted(listeners_[i], client_fd, peer);
        });
  }
  for (auto& l : listeners_)
    if (auto started = l.loop->start(); !started.ok()) return started;
  listener_timers_ = ctx_.runtime->config.dead_peer;
  return ok_status();
}

void Worker::start() {
  thread_ = std::thread([this] { loop_->run(); });
}

void Worker::on_accepted(const Listener& l, int fd, const sockaddr_storage& peer) {
  const auto& cfg = ctx_.runtime->config;
  const auto refuse = [&](std::string_view reason) {
    ::close(fd);
    AccessRecord refused(ctx_.active, ctx_.tally, l.text);  // gives the place in `active` back
    refused.client = to_string(peer);
    refused.log("refused", reason, RelayResult{});
  };
  if (ctx_.active.fetch_add(1, std::memory_order_relaxed) >= cfg.max_connections)
    return refuse("max_connections");
  auto counted = ctx_.clients.try_take(peer, cfg.max_connections_per_client);
  if (!counted) return refuse("max_connections_per_client");
  std::make_shared<Connection>(ctx_, fd, peer, l.text, l.port, std::move(*counted))->start();
}

void Worker::stop_accepting() {
  loop_->post_from_any_thread([this] {
    for (auto& l : listeners_) l.loop->close();
  });
}

std::future<Status> Worker::apply(std::shared_ptr<const RuntimeConfig> runtime) {
  auto applied = std::make_shared<std::promise<Status>>();
  auto result = applied->get_future();
  loop_->post_from_any_thread([this, applied, runtime = std::move(runtime)]() mutable {
    if (!same_resolvers(runtime->config.resolvers, ctx_.runtime->config.resolvers)) {
      auto resolver = Resolver::create(*loop_, resolver_settings(runtime->config));
      if (!resolver)  // this worker keeps all of its previous configuration, so a later reload tries again
        return applied->set_value(Error{"resolver: " + resolver.error().message});
      ctx_.resolver = *resolver;  // the old one lives on until its pending lookups are answered
    }
    Status status = ok_status();
    if (listener_timers_ != runtime->config.dead_peer) {
      status = apply_dead_peer_timers(runtime->config.dead_peer);
      listener_timers_ = status ? std::optional(runtime->config.dead_peer) : std::nullopt;
    }
    ctx_.runtime = std::move(runtime);
    applied->set_value(std::move(status));
  });
  return result;
}

// Connections accepted from now on inherit it; open ones keep theirs. Every listener is tried; the first
// failure is returned.
Status Worker::apply_dead_peer_timers(const DeadPeerTimers& timers) {
  Status first = ok_status();
  for (auto& l : listeners_) {
    if (!l.tcp || l.loop->fd() < 0) continue;
    if (Status s = set_dead_peer_timers(l.loop->fd(), timers); !s && first)
      first = Error{"listener " + l.text + ": " + s.error().message};
  }
  return first;
}

std::future<std::size_t> Worker::stop_connections(std::string reason) {
  auto stopped = std::make_shared<std::promise<std::size_t>>();
  auto result = stopped->get_future();
  loop_->post_from_any_thread(
      [this, stopped, reason = std::move(reason)] { stopped->set_value(ctx_.live.stop_all(reason)); });
  return result;
}

void Worker::stop_and_join() {
  loop_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sixgate::proxy
