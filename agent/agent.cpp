#include "agent/agent.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "agent/state_file.hpp"
#include "common/log.hpp"

namespace sixgate::agent {
namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

std::int64_t ms(std::chrono::milliseconds d) {
  return static_cast<std::int64_t>(d.count());
}

}  // namespace

Agent::Agent(boost::asio::io_context& io, AgentConfig config, std::unique_ptr<RouterApi> router,
             std::vector<std::unique_ptr<PrefixSource>> sources, AgentOptions options)
    : io_(io),
      config_(std::move(config)),
      router_(std::move(router)),
      sources_(std::move(sources)),
      options_(options),
      prefixes_(config_.sources.debounce),
      prefix_timer_(io),
      resync_timer_(io),
      retry_timer_(io),
      grace_timer_(io),
      convergence_(options_.max_rounds_without_convergence) {
  status_.agent_name = config_.agent.name;
  status_.site_name = config_.site.name;
  status_.dry_run = options_.dry_run;
  status_.sync_reason = "waiting for the prefix sources";
  if (config_.site.routed_prefix.length() != 0) status_.routed_prefix = config_.site.routed_prefix;
}

Agent::~Agent() {
  worker_.join();
}

void Agent::start() {
  log::event(spdlog::level::info, "agent_start",
             {{"agent", config_.agent.name},
              {"site", config_.site.name},
              {"router", config_.router.url},
              {"sources", static_cast<std::uint64_t>(sources_.size())},
              {"dry_run", options_.dry_run}});
  if (config_.agent.state_dir.empty()) {
    log::event(spdlog::level::warn, "state_dir_unset",
               {{"note",
                 "a home prefix that vanishes is forgotten on restart, although its addresses may still "
                 "be in use; set [agent] state_dir (the container provides /var/lib/sixgate)"}});
  } else {
    auto remembered = load_remembered_prefixes(config_.agent.state_dir);
    if (!remembered) {
      log::event(spdlog::level::warn, "state_not_loaded", {{"error", remembered.error().message}});
    } else if (!remembered->empty()) {
      std::vector<std::string> names;
      for (const auto& r : *remembered) names.push_back(r.prefix.to_string());
      log::event(spdlog::level::info, "prefixes_remembered",
                 {{"prefixes", join(names, ", ")}, {"note", "kept until their valid lifetime ends"}});
      prefixes_.restore(*remembered, SteadyClock::now());
    }
  }
  for (auto& source : sources_) {
    std::string name = source->name();
    awaiting_first_report_.insert(name);
    source->start(io_, [this, name](std::vector<PrefixObservation> observations) {
      if (!stopped_) on_report(name, observations);
    });
  }
  if (awaiting_first_report_.empty()) {
    request_reconcile("startup (no prefix sources configured)");
  } else {
    grace_timer_.expires_after(options_.startup_grace);
    grace_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || stopped_ || started_rounds_) return;
      log::event(spdlog::level::warn, "sources_slow",
                 {{"missing", join(std::vector<std::string>(awaiting_first_report_.begin(),
                                                            awaiting_first_report_.end()),
                                   ", ")},
                  {"waited_ms", ms(options_.startup_grace)}});
      request_reconcile("startup (not every source has reported yet)");
    });
  }
}

void Agent::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto* t : {&prefix_timer_, &resync_timer_, &retry_timer_, &grace_timer_}) t->cancel();
  // First: a round or a dhcp-client read stuck on a slow router would hold the joins below for its full
  // timeout and retries.
  router_->abort();
  for (auto& source : sources_) source->stop();
  worker_.join();
  log::event(spdlog::level::info, "agent_stop", {});
}

void Agent::on_report(const std::string& source, const std::vector<PrefixObservation>& observations) {
  std::vector<std::string> seen;
  for (const auto& o : observations) seen.push_back(o.prefix.to_string());
  log::event(spdlog::level::debug, "source_report", {{"source", source}, {"prefixes", join(seen, ", ")}});
  prefixes_.report(source, observations, SteadyClock::now());
  save_state();
  bool was_awaited = awaiting_first_report_.erase(source) != 0;
  if (was_awaited && awaiting_first_report_.empty() && !started_rounds_) {
    // Startup: every source's first report counts at once (they arrive milliseconds apart; debouncing them
    // would only add a second round).
    grace_timer_.cancel();
    if (auto change = prefixes_.flush(SteadyClock::now(), "startup: every source has reported"))
      log_change(*change);
    process_prefixes();
    request_reconcile("startup (every source has reported)");
    return;
  }
  process_prefixes();
}

void Agent::use_routed_prefix(const Ipv6Prefix& routed, const std::string& from) {
  if (stopped_ || routed == config_.site.routed_prefix) return;
  log::event(spdlog::level::warn, "routed_prefix_from_proxy",
             {{"proxy", from},
              {"before", config_.site.routed_prefix.to_string()},
              {"after", routed.to_string()},
              {"note", "channel.use_proxy_prefixes: the proxy's routed prefix replaces site.routed_prefix"}});
  config_.site.routed_prefix = routed;
  {
    std::lock_guard lock(status_mutex_);
    status_.routed_prefix = routed;
  }
  if (started_rounds_) request_reconcile("routed prefix from proxy " + from + ": " + routed.to_string());
}

void Agent::save_state() {
  if (config_.agent.state_dir.empty()) return;
  Status saved = save_remembered_prefixes(config_.agent.state_dir, prefixes_.remember(SteadyClock::now()));
  std::string error = saved ? std::string() : saved.error().message;
  if (error != last_state_error_ && !error.empty())
    log::event(spdlog::level::warn, "state_not_saved", {{"error", error}});
  last_state_error_ = error;
}

void Agent::log_change(const PrefixChange& c) {
  log::event(spdlog::level::info, "home_prefixes_changed",
             {{"before", to_string(c.before)},
              {"after", to_string(c.after)},
              {"added", to_string(c.added)},
              {"removed", to_string(c.removed)},
              {"reason", c.reason}});
  std::lock_guard lock(status_mutex_);
  status_.last_prefix_change = std::chrono::system_clock::now();
  status_.last_prefix_change_text = to_string(c.before) + " -> " + to_string(c.after) + " (" + c.reason + ")";
}

void Agent::process_prefixes() {
  auto now = SteadyClock::now();
  auto changes = prefixes_.advance(now);
  for (const PrefixChange& c : changes) log_change(c);
  publish_prefixes();
  arm_prefix_timer();
  if (!changes.empty() && on_change_) on_change_();
  if (!changes.empty() && started_rounds_) {
    const PrefixChange& last = changes.back();
    request_reconcile("home prefixes changed: " + to_string(changes.front().before) + " -> " +
                      to_string(last.after) + " (" + last.reason + ")");
  }
}

void Agent::arm_prefix_timer() {
  auto next = prefixes_.next_deadline();
  prefix_timer_.cancel();
  if (!next || stopped_) return;
  prefix_timer_.expires_at(std::max(*next, SteadyClock::now()));
  prefix_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    process_prefixes();
  });
}

void Agent::publish_prefixes() {
  auto now = SteadyClock::now();
  auto snapshot = prefixes_.snapshot(now);
  std::lock_guard lock(status_mutex_);
  status_.prefixes = std::move(snapshot);
  status_.effective = prefixes_.effective();
  status_prefixes_at_ = now;
  if (prefixes_.pending() && status_.sync == SyncState::in_sync) {
    status_.sync = SyncState::pending;
    status_.sync_reason = "a prefix removal waits for its debounce";
  }
}

void Agent::request_reconcile(std::string reason) {
  if (stopped_) return;
  if (in_flight_) {
    again_ = true;
    again_reason_ = std::move(reason);
    return;
  }
  start_round(std::move(reason));
}

void Agent::start_round(std::string reason) {
  started_rounds_ = true;
  in_flight_ = true;
  bool verification = next_is_verification_;
  next_is_verification_ = false;
  retry_timer_.cancel();
  resync_timer_.cancel();
  DesiredState desired = desired_state(config_, {prefixes_.effective(), prefixes_.primary()});
  ReconcileOptions opts{config_.policy.adopt, !awaiting_first_report_.empty()};
  log::event(spdlog::level::debug, "reconcile_start",
             {{"reason", reason}, {"prefixes", to_string(prefixes_.effective())}});
  boost::asio::post(worker_, [this, desired = std::move(desired), opts, reason = std::move(reason),
                              verification]() mutable {
    RoundOutcome outcome = reconcile_round(*router_, desired, opts, options_.dry_run);
    boost::asio::post(io_, [this, outcome = std::move(outcome), desired = std::move(desired), reason,
                            verification] { finish_round(outcome, desired, reason, verification); });
  });
}

void Agent::finish_round(const RoundOutcome& outcome, const DesiredState& desired, const std::string& reason,
                         bool verification) {
  in_flight_ = false;
  if (stopped_) return;
  const SyncState before = status().sync;
  settle_round(outcome, desired, reason, verification);
  if (on_change_ && status().sync != before) on_change_();
}

void Agent::settle_round(const RoundOutcome& outcome, const DesiredState& desired, const std::string& reason,
                         bool verification) {
  if (outcome.plan.warnings != last_warnings_) {
    for (const std::string& w : outcome.plan.warnings)
      log::event(spdlog::level::warn, "plan_warning", {{"warning", w}});
    last_warnings_ = outcome.plan.warnings;
  }

  {
    std::lock_guard lock(status_mutex_);
    ++status_.rounds;
    status_.writes += outcome.writes;
  }

  if (outcome.error) {
    settle_failed_round(outcome, reason);
    return;
  }

  failures_ = 0;
  log_round_result(outcome, reason, verification);
  const std::optional<std::string> stuck = check_convergence(outcome, desired);
  const std::size_t changes = outcome.plan.operations.size();
  {
    std::lock_guard lock(status_mutex_);
    status_.last_sync = std::chrono::system_clock::now();
    if (stuck) {
      status_.sync = SyncState::error;
      status_.sync_reason = *stuck;
    } else if (options_.dry_run && changes > 0) {
      status_.sync = SyncState::pending;
      status_.sync_reason = "dry-run: " + std::to_string(changes) + " change(s) not applied";
    } else if (prefixes_.pending()) {
      status_.sync = SyncState::pending;
      status_.sync_reason = "a prefix removal waits for its debounce";
    } else {
      status_.sync = SyncState::in_sync;
      status_.sync_reason.clear();
    }
  }

  // After writes, one immediate re-read confirms the router took them (not chained further: a router that
  // keeps differing is retried by the periodic resync, not in a tight loop).
  if (outcome.writes > 0 && !verification && !again_ && !stuck) {
    next_is_verification_ = true;
    request_reconcile("verify after writes");
    return;
  }
  if (again_) {
    again_ = false;
    request_reconcile(std::move(again_reason_));
    return;
  }
  arm_resync_timer();
}

void Agent::settle_failed_round(const RoundOutcome& outcome, const std::string& reason) {
  ++failures_;
  auto delay = options_.backoff_base * (1 << std::min(failures_ - 1, 16));
  delay = std::min<std::chrono::milliseconds>(delay, options_.backoff_cap);
  std::string next_reason = "retry after error";
  if (again_) {
    // Something asked for a round while this one failed (e.g. a prefix change): it must not wait for the
    // whole backoff.
    again_ = false;
    delay = std::min(delay, options_.pending_retry);
    next_reason = std::move(again_reason_);
  }
  log::event(spdlog::level::warn, "reconcile_failed",
             {{"reason", reason},
              {"error", *outcome.error},
              {"writes_before_error", static_cast<std::uint64_t>(outcome.writes)},
              {"retry_in_ms", ms(delay)},
              {"consecutive_failures", failures_}});
  {
    std::lock_guard lock(status_mutex_);
    status_.sync = SyncState::error;
    status_.sync_reason = *outcome.error;
  }
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([this, next_reason = std::move(next_reason)](const boost::system::error_code& ec) {
    if (!ec) request_reconcile(next_reason);
  });
}

void Agent::log_round_result(const RoundOutcome& outcome, const std::string& reason, bool verification) {
  const std::size_t changes = outcome.plan.operations.size();
  if (changes == 0) {
    log::event(spdlog::level::debug, "reconcile_in_sync", {{"reason", reason}});
  } else if (options_.dry_run && render_plan(outcome.plan) == last_dry_run_plan_) {
    log::event(spdlog::level::debug, "dry_run_plan_unchanged",
               {{"changes", static_cast<std::uint64_t>(changes)}});
  } else if (options_.dry_run) {
    last_dry_run_plan_ = render_plan(outcome.plan);
    log::event(spdlog::level::info, "dry_run_plan",
               {{"reason", reason}, {"changes", static_cast<std::uint64_t>(changes)}});
    for (const Operation& op : outcome.plan.operations) {
      std::string fields;
      for (const auto& [k, v] : op.fields) fields += (fields.empty() ? "" : " ") + k + "=" + v;
      log::event(
          spdlog::level::info, "dry_run_would_write",
          {{"op", std::string(to_string(op.verb)) + " " + op.menu + (op.id.empty() ? "" : " " + op.id)},
           {"what", op.label},
           {"reason", op.reason},
           {"fields", fields}});
    }
  } else {
    log::event(spdlog::level::info, "reconciled",
               {{"reason", reason},
                {"writes", static_cast<std::uint64_t>(outcome.writes)},
                {"verification", verification}});
  }
}

std::optional<std::string> Agent::check_convergence(const RoundOutcome& outcome,
                                                    const DesiredState& desired) {
  if (options_.dry_run) return std::nullopt;  // nothing is applied, so the same plan every round is expected
  std::optional<std::string> stuck = convergence_.after_round(desired, outcome.plan);
  std::string error = stuck.value_or("");
  if (!error.empty() && error != last_convergence_error_)
    log::event(spdlog::level::warn, "router_not_converging",
               {{"error", error}, {"rounds", convergence_.repeated_rounds()}});
  last_convergence_error_ = error;
  return stuck;
}

void Agent::arm_resync_timer() {
  resync_timer_.expires_after(config_.router.poll_interval);
  resync_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) request_reconcile("periodic resync");
  });
}

AgentStatus Agent::status() const {
  std::lock_guard lock(status_mutex_);
  AgentStatus copy = status_;
  auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - status_prefixes_at_);
  for (PrefixState& p : copy.prefixes) {
    for (auto* r : {&p.valid_remaining, &p.preferred_remaining})
      if (*r) **r = std::max(std::chrono::seconds(0), **r - elapsed);
  }
  return copy;
}

}  // namespace sixgate::agent
