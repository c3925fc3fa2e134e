#include "proxy/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <future>
#include <thread>

#include "common/log.hpp"
#include "proxy/channel_server.hpp"
#include "proxy/config_reload.hpp"
#include "proxy/worker.hpp"

namespace sixgate::proxy {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::chrono::seconds kStopWait{2};

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ",") + i;
  return s;
}

std::string listen_texts(const ProxyConfig& c) {
  std::vector<std::string> texts;
  for (const auto& l : c.listen) texts.push_back(l.text);
  return join(texts);
}

class Server {
 public:
  Server(const ProxyConfig& config, std::vector<std::string> args)
      : args_(std::move(args)),
        runtime_(std::make_shared<const RuntimeConfig>(config)),
        signals_(io_),
        drain_timer_(io_),
        log_flush_timer_(io_) {}

  int run() {
    const auto& cfg = runtime_->config;
    unsigned n = cfg.workers ? cfg.workers : std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 0; i < n; ++i) {
      auto loop = EventLoop::create();
      if (!loop) {
        log::event(spdlog::level::critical, "startup_failed", {{"error", loop.error().message}});
        return 1;
      }
      workers_.push_back(std::make_unique<Worker>(i, std::move(loop).value(), runtime_, active_, clients_));
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
    auto control = start_control_socket(io_, cfg, channel->get(), [this, n] {
      TallyTotals ended;
      for (const auto& w : workers_) ended += w->tally();
      return ProxyActivity{.active_connections = active_.load(std::memory_order_relaxed),
                           .max_connections = runtime_->config.max_connections,
                           .workers = n,
                           .log_dropped_bytes = log::dropped_bytes(),
                           .ended = std::move(ended)};
    });
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
    flush_access_log_periodically();
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

  // The worker threads' access-log lines are gathered (log::setup batch_access_lines); this thread writes
  // them out at the configured interval, which a reload may change.
  void flush_access_log_periodically() {
    const auto interval = runtime_->config.access_log_flush;
    if (interval.count() == 0) return;
    log_flush_timer_.expires_after(interval);
    log_flush_timer_.async_wait([this](const error_code& ec) {
      if (ec) return;
      log::flush();
      flush_access_log_periodically();
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
    const auto& running = runtime_->config;
    auto differences = reload_differences(running, next);
    if (!differences.refused.empty()) {
      log::event(spdlog::level::err, "reload_refused",
                 {{"changed", join(differences.refused)},
                  {"error", "these keys need a restart"},
                  {"kept", "previous configuration"}});
      return;
    }
    if (!differences.need_restart.empty()) {
      log::event(spdlog::level::warn, "reload_needs_restart",
                 {{"changed", join(differences.need_restart)}, {"kept", "running values of these keys"}});
      keep_restart_only_values(running, next);
    }
    runtime_ = std::make_shared<const RuntimeConfig>(std::move(next));
    std::vector<std::future<Status>> applying;
    for (auto& w : workers_) applying.push_back(w->apply(runtime_));
    report_reload(applying, differences.applied);
  }

  // Logged once every worker has switched (or kStopWait has passed), so `reloaded` means in effect.
  void report_reload(std::vector<std::future<Status>>& applying, const std::vector<std::string>& changed) {
    std::string errors;
    std::size_t failed = 0;
    const auto deadline = std::chrono::steady_clock::now() + kStopWait;
    for (std::size_t i = 0; i < applying.size(); ++i) {
      const bool answered = applying[i].wait_until(deadline) == std::future_status::ready;
      Status s = answered ? applying[i].get() : Status(Error{"did not answer in time"});
      if (s) continue;
      ++failed;
      errors += (errors.empty() ? "" : "; ") + ("worker " + std::to_string(i) + ": " + s.error().message);
    }
    const auto& cfg = runtime_->config;
    const std::string config_file = cfg.config_file.value_or("-");
    const std::string changed_keys = changed.empty() ? "none" : join(changed);
    if (failed == 0)
      log::event(spdlog::level::info, "reloaded",
                 {{"config", config_file},
                  {"changed", changed_keys},
                  {"workers", applying.size()},
                  {"backend_cidrs", cfg.backend_cidr6.size() + cfg.backend_cidr4.size()}});
    else
      log::event(
          spdlog::level::err, "reload_incomplete",
          {{"config", config_file},
           {"changed", changed_keys},
           {"workers", applying.size()},
           {"failed_workers", failed},
           {"error", errors},
           {"kept", "previous configuration on those workers (dead-peer timers: on the listeners named)"}});
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
    const bool expired = std::chrono::steady_clock::now() >= drain_deadline_;
    if (active_.load() == 0 || expired) {
      if (active_.load() > 0) stop_left_connections();
      signals_.cancel();
      io_.stop();
      return;
    }
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this](const error_code& ec) {
      if (!ec) poll_drain();
    });
  }

  // At the drain deadline: each worker ends its connections on its own thread (each writes its access-log
  // line, outcome=stopped) before the workers are stopped.
  void stop_left_connections() {
    std::vector<std::future<std::size_t>> stopping;
    for (auto& w : workers_) stopping.push_back(w->stop_connections("drain_timeout"));
    std::size_t stopped = 0;
    bool all_answered = true;
    for (auto& f : stopping) {
      if (f.wait_for(kStopWait) == std::future_status::ready)
        stopped += f.get();
      else
        all_answered = false;
    }
    log::event(all_answered ? spdlog::level::info : spdlog::level::err, "drain_deadline",
               {{"stopped", stopped}, {"all_workers_answered", all_answered}});
  }

  std::vector<std::string> args_;
  std::shared_ptr<const RuntimeConfig> runtime_;
  std::atomic<std::size_t> active_{0};
  ClientCounts clients_;
  asio::io_context io_{1};
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  asio::steady_timer log_flush_timer_;
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
