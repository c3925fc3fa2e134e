#include "agent/one_shot.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <ostream>
#include <set>

#include "agent/core/convergence.hpp"
#include "agent/core/prefix_set.hpp"
#include "agent/reconcile_round.hpp"
#include "common/log.hpp"

namespace sixgate::agent {

Result<HomePrefixes> gather_home_prefixes(std::vector<std::unique_ptr<PrefixSource>>& sources,
                                          std::chrono::milliseconds timeout,
                                          const std::vector<PrefixObservation>& remembered,
                                          std::vector<PrefixObservation>* memory) {
  PrefixSet set(std::chrono::milliseconds(0));
  set.restore(remembered, SteadyClock::now());
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::set<std::string> waiting;
  if (sources.empty()) io.stop();
  for (auto& s : sources) waiting.insert(s->name());
  for (auto& s : sources) {
    std::string name = s->name();
    s->start(io, [&, name](std::vector<PrefixObservation> observations) {
      set.report(name, observations, SteadyClock::now());
      waiting.erase(name);
      if (waiting.empty()) io.stop();
    });
  }
  boost::asio::steady_timer deadline(io);
  deadline.expires_after(timeout);
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) io.stop();
  });
  io.run();
  for (auto& s : sources) s->stop();
  if (!waiting.empty()) {
    std::string names;
    for (const auto& n : waiting) names += (names.empty() ? "" : ", ") + n;
    return make_error("prefix source(s) " + names + " reported nothing within " +
                      std::to_string(timeout.count()) +
                      " ms (see the log for why); refusing to plan without them");
  }
  const auto now = SteadyClock::now();
  set.advance(now);
  if (memory) *memory = set.remember(now);
  HomePrefixes home{set.effective(), set.primary()};
  log::event(spdlog::level::info, "home_prefixes", {{"effective", to_string(home.prefixes)}});
  return home;
}

int run_plan(const AgentConfig& config, RouterApi& router, const HomePrefixes& home, std::ostream& out,
             std::ostream& err) {
  DesiredState desired = desired_state(config, home);
  auto tables = read_tables(router);
  if (!tables) {
    err << "sixgate-agent plan: " << tables.error().message << "\n";
    return exit_error;
  }
  Plan p = plan(desired, *tables, ReconcileOptions{config.policy.adopt});
  out << "Home prefixes: " << to_string(home.prefixes) << "\n" << render_plan(p);
  return p.empty() ? exit_ok : exit_changes;
}

int run_apply_once(const AgentConfig& config, RouterApi& router, const HomePrefixes& home, std::ostream& out,
                   std::ostream& err) {
  DesiredState desired = desired_state(config, home);
  out << "Home prefixes: " << to_string(home.prefixes) << "\n";
  constexpr int max_rounds = 3;
  Plan last;
  for (int round = 1; round <= max_rounds; ++round) {
    RoundOutcome outcome = reconcile_round(router, desired, ReconcileOptions{config.policy.adopt}, false);
    if (outcome.plan.empty() && !outcome.error) {
      if (round == 1) out << render_plan(outcome.plan);
      out << "Router in sync.\n";
      return exit_ok;
    }
    out << render_plan(outcome.plan);
    if (outcome.error) {
      err << "sixgate-agent apply: " << *outcome.error << " (" << outcome.writes
          << " change(s) applied before it)\n";
      return exit_error;
    }
    out << "Applied " << outcome.writes << " change(s).\n";
    last = outcome.plan;
  }
  err << "sixgate-agent apply: " << describe_not_converging(last, max_rounds) << "\n";
  return exit_error;
}

}  // namespace sixgate::agent
