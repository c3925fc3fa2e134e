#include "proxy/worker.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "common/log.hpp"
#include "proxy/connection.hpp"
#include "proxy/sockets.hpp"

namespace sixgate::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{1000};

ResolverSettings resolver_settings(const ProxyConfig& c) {
  ResolverSettings s;
  s.servers = c.resolvers;
  return s;
}

bool same_servers(const std::vector<ResolverAddress>& a, const std::vector<ResolverAddress>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].to_ares() != b[i].to_ares()) return false;
  return true;
}

}  // namespace

Worker::Worker(unsigned index, std::shared_ptr<const RuntimeConfig> runtime, std::atomic<std::size_t>& active)
    : index_(index),
      io_(1),
      work_(asio::make_work_guard(io_)),
      ctx_{.io = io_,
           .runtime = std::move(runtime),
           .resolver = nullptr,
           .pipes = {},
           .poller = nullptr,
           .active = active,
           .live = {}} {}

Worker::~Worker() {
  stop_and_join();
}

Status Worker::prepare() {
  auto resolver = Resolver::create(io_, resolver_settings(ctx_.runtime->config));
  if (!resolver) return resolver.error();
  ctx_.resolver = *resolver;
  auto poller = ReadinessPoller::create(io_);
  if (!poller) return poller.error();
  ctx_.poller = std::move(poller).value();
  for (const auto& spec : ctx_.runtime->config.listen) {
    auto fd = open_listener(spec);
    if (!fd) return fd.error();
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(*fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
      auto e = make_error("-listen " + spec.text + ": getsockname: " + std::strerror(errno));
      ::close(*fd);
      return e;
    }
    auto& l = listeners_.emplace_back(io_, spec.kind == ListenSpec::Kind::fd ? spec.text : to_string(ss));
    l.port = port_of(ss);
    error_code ec;
    l.acceptor.assign(asio::generic::stream_protocol(ss.ss_family, ss.ss_family == AF_UNIX ? 0 : IPPROTO_TCP),
                      *fd, ec);
    if (ec) {
      ::close(*fd);
      return make_error("-listen " + spec.text + ": " + ec.message());
    }
    l.acceptor.non_blocking(true, ec);  // accept() must not block when another worker took the connection
    if (ec) return make_error("-listen " + spec.text + ": non-blocking: " + ec.message());
  }
  return ok_status();
}

void Worker::start() {
  for (auto& l : listeners_) accept(l);
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::accept(Listener& l) {
  l.acceptor.async_accept(io_, l.peer, [this, &l](const error_code& ec, StreamSocket socket) {
    if (ec == asio::error::operation_aborted || !l.acceptor.is_open()) return;
    if (ec) return on_accept_error(l, ec);
    l.delay = std::chrono::milliseconds(0);
    const auto& cfg = ctx_.runtime->config;
    sockaddr_storage peer{};
    std::memcpy(&peer, l.peer.data(), std::min<std::size_t>(l.peer.size(), sizeof peer));
    if (ctx_.active.fetch_add(1, std::memory_order_relaxed) >= cfg.max_connections) {
      error_code ignored;
      socket.close(ignored);
      AccessRecord refused(ctx_.active, l.text);  // gives the place back
      refused.client = to_string(peer);
      refused.log("refused", "max_connections", RelayResult{});
    } else {
      std::make_shared<Connection>(ctx_, std::move(socket), peer, l.text, l.port)->start();
    }
    accept(l);
  });
}

// EMFILE, ENFILE, ENOBUFS, ENOMEM: accepting again at once would fail again and spin. Wait, doubling up to
// kMaxBackoff; log when the trouble starts, not on every retry.
void Worker::on_accept_error(Listener& l, const error_code& ec) {
  if (l.delay.count() == 0) {
    log::event(spdlog::level::err, "accept_failed",
               {{"listener", l.text},
                {"worker", index_},
                {"error", ec.message()},
                {"backoff_ms", kFirstBackoff.count()}});
    l.delay = kFirstBackoff;
  } else {
    l.delay = std::min(l.delay * 2, kMaxBackoff);
  }
  l.backoff.expires_after(l.delay);
  l.backoff.async_wait([this, &l](const error_code& wait_ec) {
    if (!wait_ec && l.acceptor.is_open()) accept(l);
  });
}

void Worker::stop_accepting() {
  asio::post(io_, [this] {
    for (auto& l : listeners_) {
      error_code ignored;
      l.backoff.cancel();
      l.acceptor.close(ignored);
    }
  });
}

void Worker::apply(std::shared_ptr<const RuntimeConfig> runtime) {
  asio::post(io_, [this, runtime = std::move(runtime)] {
    if (!same_servers(runtime->config.resolvers, ctx_.runtime->config.resolvers)) {
      auto resolver = Resolver::create(io_, resolver_settings(runtime->config));
      if (!resolver) {
        log::event(spdlog::level::err, "reload_resolver_failed",
                   {{"worker", index_}, {"error", resolver.error().message}});
        return;
      }
      ctx_.resolver = *resolver;  // the old one lives on until its pending lookups are answered
    }
    ctx_.runtime = runtime;
  });
}

std::future<std::size_t> Worker::stop_connections(std::string reason) {
  auto stopped = std::make_shared<std::promise<std::size_t>>();
  auto result = stopped->get_future();
  asio::post(io_,
             [this, stopped, reason = std::move(reason)] { stopped->set_value(ctx_.live.stop_all(reason)); });
  return result;
}

void Worker::stop_and_join() {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sixgate::proxy
