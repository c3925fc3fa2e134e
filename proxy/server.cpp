#include "proxy/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <thread>

#include "common/log.hpp"
#include "proxy/channel_server.hpp"
#include "proxy/worker.hpp"

namespace sixgate::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

std::string listen_texts(const ProxyConfig& c) {
  std::string s;
  for (const auto& l : c.listen) s += (s.empty() ? "" : ",") + l.text;
  return s;
}

class Server {
 public:
  Server(const ProxyConfig& config, std::vector<std::string> args)
      : args_(std::move(args)),
        runtime_(std::make_shared<const RuntimeConfig>(config)),
        signals_(io_),
        drain_timer_(io_) {}

  int run() {
    const auto& cfg = runtime_->config;
    unsigned n = cfg.workers ? cfg.workers : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, runtime_, active_));
      if (auto s = workers_.back()->prepare(); !s) {
        log::event(spdlog::level::critical, "startup_failed", {{"error", s.error().message}});
        return 1;
      }
    }
    // Before the worker threads start: the control socket changes the process umask for a moment.
    auto channel = start_channel_server(io_, cfg);
    if (!channel) {
      log::event(spdlog::level::critical, "startup_failed", {{"error", channel.error().message}});
      return 1;
    }
    // The control socket only serves `status`: without it the proxy still does its job (an snid unit with
    // just the binary path changed has no writable /run/sixgate), so its failure is a warning.
    auto control = start_control_socket(io_, cfg, channel->get());
    if (!control)
      log::event(spdlog::level::warn, "control_socket_unavailable", {{"error", control.error().message}});
    for (auto& w : workers_) w->start();
    log::event(spdlog::level::info, "listening",
               {{"listen", listen_texts(cfg)},
                {"mode", to_string(cfg.mode)},
                {"workers", n},
                {"nat46_prefix", cfg.nat46_prefix ? cfg.nat46_prefix->to_string() : std::string("-")},
                {"version", SIXGATE_VERSION}});
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.add(SIGHUP);
    wait_signal();
    io_.run();
    for (auto& w : workers_) w->stop_and_join();
    log::event(spdlog::level::info, "stopped", {{"connections_left", active_.load()}});
    return 0;
  }

 private:
  void wait_signal() {
    signals_.async_wait([this](const error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
        return wait_signal();
      }
      drain(sig);
    });
  }

  void reload() {
    auto parsed = parse_proxy_args(args_);
    if (!parsed || parsed->action != ProxyConfig::Action::run) {
      log::event(spdlog::level::err, "reload_failed",
                 {{"error", parsed ? std::string("not a run configuration") : parsed.error().message},
                  {"kept", "previous configuration"}});
      return;
    }
    ProxyConfig next = std::move(parsed.value());
    const auto& old = runtime_->config;
    if (listen_texts(next) != listen_texts(old) || next.mode != old.mode ||
        next.nat46_prefix != old.nat46_prefix)
      log::event(spdlog::level::warn, "reload_partial",
                 {{"ignored", "listen, mode and nat46-prefix changes need a restart"}});
    next.listen = old.listen;
    next.mode = old.mode;
    next.nat46_prefix = old.nat46_prefix;
    runtime_ = std::make_shared<const RuntimeConfig>(std::move(next));
    for (auto& w : workers_) w->apply(runtime_);
    log::event(
        spdlog::level::info, "reloaded",
        {{"config", runtime_->config.config_file.value_or("-")},
         {"backend_cidrs", runtime_->config.backend_cidr6.size() + runtime_->config.backend_cidr4.size()}});
  }

  void drain(int sig) {
    for (auto& w : workers_) w->stop_accepting();
    drain_deadline_ = std::chrono::steady_clock::now() + runtime_->config.drain_timeout;
    log::event(spdlog::level::info, "draining",
               {{"signal", sig},
                {"connections", active_.load()},
                {"timeout_ms", static_cast<std::int64_t>(runtime_->config.drain_timeout.count())}});
    poll_drain();
  }

  void poll_drain() {
    if (active_.load() == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
      signals_.cancel();
      io_.stop();
      return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this](const error_code& ec) {
      if (!ec) poll_drain();
    });
  }

  std::vector<std::string> args_;
  std::shared_ptr<const RuntimeConfig> runtime_;
  std::atomic<std::size_t> active_{0};
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  std::chrono::steady_clock::time_point drain_deadline_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace

int run_proxy(const ProxyConfig& config, const std::vector<std::string>& args) {
  std::signal(SIGPIPE, SIG_IGN);
  Server server(config, args);
  return server.run();
}

}  // namespace sixgate::proxy
