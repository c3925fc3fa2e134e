#pragma once
// The daemon (`sixgate-agent run`): prefix sources -> prefix set -> (debounced) reconcile rounds against the
// router, a periodic resync, retries with capped backoff after errors.
//
// Threading: everything except the router I/O runs on the one io_context passed in. A reconcile round
// (blocking HTTPS calls) runs on a private worker thread and posts its outcome back to the io_context; at
// most one round is in flight. status() may be called from any thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/agent_status.hpp"
#include "agent/core/config.hpp"
#include "agent/core/convergence.hpp"
#include "agent/core/prefix_set.hpp"
#include "agent/reconcile_round.hpp"
#include "agent/router_api.hpp"
#include "agent/sources/source.hpp"

namespace sixgate::agent {

struct AgentOptions {
  bool dry_run = false;                           // plan and log, never write
  std::chrono::milliseconds startup_grace{5000};  // first round waits at most this long for every source
  std::chrono::milliseconds backoff_base{1000}, backoff_cap{60000};  // after a failed round
  // A request (e.g. a prefix change) that came while a round failed is retried after at most this long
  // instead of the full backoff; still bounded, so a failing router is not hammered.
  std::chrono::milliseconds pending_retry{1000};
  int max_rounds_without_convergence = 3;  // rounds in a row planning the same writes: sync error
};

class Agent {
 public:
  Agent(boost::asio::io_context& io, AgentConfig config, std::unique_ptr<RouterApi> router,
        std::vector<std::unique_ptr<PrefixSource>> sources, AgentOptions options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  void start();  // on the io_context's thread (or before it runs)
  void stop();   // on the io_context's thread; waits for a round in flight to end

  AgentStatus status() const;  // thread-safe copy, lifetimes counted down to the time of the call

  // Asks for a reconcile round now (coalesced with one in flight). On the io_context's thread.
  void request_reconcile(std::string reason);

  // channel.use_proxy_prefixes: the site's routed prefix as the proxy knows it replaces the configured one
  // (the rule's src-address follows). On the io_context's thread.
  void use_routed_prefix(const Ipv6Prefix& routed, const std::string& from);

  // Called on the io_context's thread after the effective prefixes or the sync state changed (e.g. to push
  // the news to the proxies at once).
  void set_change_listener(std::function<void()> listener) { on_change_ = std::move(listener); }

 private:
  void on_report(const std::string& source, const std::vector<PrefixObservation>& observations);
  void process_prefixes();
  void log_change(const PrefixChange& change);
  void save_state();  // remembered prefixes to state_dir, if configured
  void arm_prefix_timer();
  void start_round(std::string reason);
  void finish_round(const RoundOutcome& outcome, const DesiredState& desired, const std::string& reason,
                    bool verification);
  void settle_round(const RoundOutcome& outcome, const DesiredState& desired, const std::string& reason,
                    bool verification);
  void settle_failed_round(const RoundOutcome& outcome, const std::string& reason);
  void log_round_result(const RoundOutcome& outcome, const std::string& reason, bool verification);
  std::optional<std::string> check_convergence(const RoundOutcome& outcome, const DesiredState& desired);
  void arm_resync_timer();
  void publish_prefixes();

  boost::asio::io_context& io_;
  AgentConfig config_;
  std::unique_ptr<RouterApi> router_;
  std::vector<std::unique_ptr<PrefixSource>> sources_;
  AgentOptions options_;

  PrefixSet prefixes_;
  boost::asio::steady_timer prefix_timer_, resync_timer_, retry_timer_, grace_timer_;
  boost::asio::thread_pool worker_{1};

  std::set<std::string> awaiting_first_report_;
  bool started_rounds_ = false;
  bool stopped_ = false;
  bool in_flight_ = false;
  bool again_ = false;
  bool next_is_verification_ = false;
  std::string again_reason_;
  int failures_ = 0;
  std::vector<std::string> last_warnings_;
  std::string last_dry_run_plan_;
  std::function<void()> on_change_;
  std::string last_state_error_;  // logged in full only when it changes
  ConvergenceWatch convergence_;
  std::string last_convergence_error_;  // logged only when it changes

  mutable std::mutex status_mutex_;
  AgentStatus status_;
  SteadyClock::time_point status_prefixes_at_{};
};

}  // namespace sixgate::agent
