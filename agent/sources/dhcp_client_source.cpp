// (a) The router's DHCPv6-PD client, polled. Timing lives on the agent's io_context (a steady_timer); the
// blocking read runs on a one-thread pool owned by the source, and its result is posted back to the
// io_context, so the io_context never waits for the router.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <optional>

#include "agent/sources/dhcp_client_reading.hpp"
#include "agent/sources/observation_change.hpp"
#include "agent/sources/source.hpp"
#include "common/log.hpp"

namespace sixgate::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kLifetimeSlack = std::chrono::seconds(5);  // the router shows whole seconds; polls jitter

std::string describe(const std::vector<PrefixObservation>& set) {
  std::string out;
  for (const auto& o : set)
    out += (out.empty() ? "" : ",") + o.prefix.to_string() +
           " valid=" + std::to_string(o.valid_lifetime.count());
  return out;
}

// Shared by the io_context's handlers and the worker; everything but `fetch` is touched only on the io
// thread.
struct PollState {
  PollState(boost::asio::io_context& io_, DhcpClientSourceOptions o, std::string n, DhcpClientFetch f,
            PrefixSource::Callback cb)
      : io(io_),
        options(std::move(o)),
        name(std::move(n)),
        fetch(std::move(f)),
        callback(std::move(cb)),
        timer(io_) {}

  boost::asio::io_context& io;
  DhcpClientSourceOptions options;
  std::string name;
  DhcpClientFetch fetch;
  PrefixSource::Callback callback;
  boost::asio::steady_timer timer;
  bool stopped = false;
  bool reported = false;
  std::string last_state;
  std::vector<PrefixObservation> last;
  Clock::time_point last_at{};
};

void schedule(const std::shared_ptr<PollState>& state, boost::asio::thread_pool& pool,
              std::chrono::milliseconds delay);

void handle(const std::shared_ptr<PollState>& s, const Result<std::vector<RosObject>>& rows) {
  if (!rows) {
    log::event(spdlog::level::warn, "dhcp_client_read_failed",
               {{"source", s->name}, {"error", rows.error().message}});
    return;
  }
  auto reading = read_dhcp_client(*rows, s->options.interface, s->options.assumed_lifetime, s->name);
  if (!reading) {
    log::event(spdlog::level::warn, "dhcp_client_unreadable",
               {{"source", s->name}, {"error", log::bounded(reading.error().message)}});
    return;
  }
  const auto now = Clock::now();
  if (reading->state != s->last_state) {
    log::event(reading->state == "bound" ? spdlog::level::info : spdlog::level::warn, "dhcp_client_state",
               {{"source", s->name}, {"state", log::bounded(reading->state)}, {"previous", s->last_state}});
    s->last_state = reading->state;
  }
  if (s->reported && !observations_differ(s->last, s->last_at, reading->observations, now, kLifetimeSlack))
    return;
  log::event(spdlog::level::info, "dhcp_client_prefixes",
             {{"source", s->name}, {"prefixes", describe(reading->observations)}});
  s->reported = true;
  s->last = reading->observations;
  s->last_at = now;
  s->callback(std::move(reading->observations));
}

void poll(const std::shared_ptr<PollState>& s, boost::asio::thread_pool& pool) {
  // The work guard keeps io.run() from returning while the read is away on the pool.
  boost::asio::post(pool, [s, &pool, work = boost::asio::make_work_guard(s->io)] {
    auto rows = s->fetch();  // blocking HTTPS
    boost::asio::post(s->io, [s, &pool, rows = std::move(rows)] {
      if (s->stopped) return;
      handle(s, rows);
      schedule(s, pool, s->options.poll_interval);
    });
  });
}

void schedule(const std::shared_ptr<PollState>& s, boost::asio::thread_pool& pool,
              std::chrono::milliseconds delay) {
  s->timer.expires_after(delay);
  s->timer.async_wait([s, &pool](const boost::system::error_code& ec) {
    if (ec || s->stopped) return;
    poll(s, pool);
  });
}

class DhcpClientSource final : public PrefixSource {
 public:
  DhcpClientSource(DhcpClientSourceOptions options, DhcpClientFetch fetch)
      : options_(std::move(options)), fetch_(std::move(fetch)) {}
  ~DhcpClientSource() override { stop(); }

  std::string name() const override { return "dhcp-client:" + options_.interface; }

  void start(boost::asio::io_context& io, Callback on_change) override {
    stop();
    pool_.emplace(1);
    state_ = std::make_shared<PollState>(io, options_, name(), fetch_, std::move(on_change));
    schedule(state_, *pool_, std::chrono::milliseconds(0));
  }

  void stop() override {
    if (state_) {
      state_->stopped = true;
      state_->timer.cancel();
    }
    if (pool_) {
      pool_->join();  // a read in flight finishes; its posted result sees `stopped`
      pool_.reset();
    }
    state_.reset();
  }

 private:
  DhcpClientSourceOptions options_;
  DhcpClientFetch fetch_;
  std::optional<boost::asio::thread_pool> pool_;
  std::shared_ptr<PollState> state_;
};

}  // namespace

std::unique_ptr<PrefixSource> make_dhcp_client_source(DhcpClientSourceOptions options,
                                                      DhcpClientFetch fetch) {
  return std::make_unique<DhcpClientSource>(std::move(options), std::move(fetch));
}

}  // namespace sixgate::agent
