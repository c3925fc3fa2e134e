// The agent's I/O layer against an in-memory router: one-shot plan/apply (exit codes, stop at the first
// failed write, re-read next time), prefix gathering, and the daemon loop (converges, follows a prefix
// change, recovers from errors, status). Waits are bounded; no assertion depends on timing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/agent.hpp"
#include "agent/channel_client.hpp"
#include "agent/one_shot.hpp"
#include "agent/reconcile_round.hpp"
#include "agent/routeros/client.hpp"
#include "tests/agent/routeros/emulator_fixture.hpp"

using namespace sixgate;
using namespace sixgate::agent;
using namespace std::chrono_literals;

namespace {

Ipv6Prefix P(const char* text) {
  return Ipv6Prefix::parse(text).value();
}

AgentConfig config(const std::string& extra = "") {
  return parse_agent_config(
             "[agent]\nname = \"t\"\n[site]\nrouted_prefix = \"2001:db8:1:2:1::/80\"\n"
             "[router]\npoll_interval_s = 1\n[sources]\ndebounce_ms = 0\n" +
                 extra,
             "t.toml")
      .value();
}

// Enough of RouterOS for these tests: ids, append / place-before, booleans read back as true/false, and
// failure injection. Thread-safe: the daemon calls it from its worker thread.
class FakeRouter final : public RouterApi {
 public:
  Result<std::vector<RosObject>> list(std::string_view menu) override {
    std::unique_lock lock(mutex_);
    ++waiting_;
    released_.wait(lock, [this] { return !held_; });
    --waiting_;
    ++gets_;
    if (fail_lists_ > 0) {
      --fail_lists_;
      return make_error("GET /rest" + std::string(menu) + ": 500 Internal Server Error");
    }
    return tables_[std::string(menu)];
  }
  Result<RosObject> add(std::string_view menu, const RosObject& fields) override {
    std::lock_guard lock(mutex_);
    if (auto e = write_fault()) return *e;
    RosObject o = fields;
    std::string before;
    if (auto it = o.find("place-before"); it != o.end()) {
      before = it->second;
      o.erase(it);
    }
    for (auto& [k, v] : o) v = v == "yes" ? "true" : v == "no" ? "false" : v;
    o[".id"] = "*" + std::to_string(++next_id_);
    auto& rows = tables_[std::string(menu)];
    auto pos =
        std::find_if(rows.begin(), rows.end(), [&](const RosObject& r) { return r.at(".id") == before; });
    o = rewritten(menu, std::move(o));
    rows.insert(before.empty() ? rows.end() : pos, o);
    return o;
  }
  Result<RosObject> set(std::string_view menu, std::string_view id, const RosObject& fields) override {
    std::lock_guard lock(mutex_);
    if (auto e = write_fault()) return *e;
    RosObject* o = find(menu, id);
    if (!o) return make_error("404 Not Found");
    for (const auto& [k, v] : fields) {
      if (!k.empty() && k[0] == '!')
        o->erase(k.substr(1));
      else
        (*o)[k] = v == "yes" ? "true" : v == "no" ? "false" : v;
    }
    *o = rewritten(menu, std::move(*o));
    return *o;
  }
  Status remove(std::string_view menu, std::string_view id) override {
    std::lock_guard lock(mutex_);
    if (auto e = write_fault()) return *e;
    auto& rows = tables_[std::string(menu)];
    auto it = std::find_if(rows.begin(), rows.end(), [&](const RosObject& r) { return r.at(".id") == id; });
    if (it == rows.end()) return make_error("404 Not Found");
    rows.erase(it);
    return ok_status();
  }
  Status move(std::string_view, const std::vector<std::string>&, std::string_view) override {
    std::lock_guard lock(mutex_);
    if (auto e = write_fault()) return *e;
    return ok_status();
  }

  void fail_writes_after(int ok_writes) {
    std::lock_guard lock(mutex_);
    fail_after_ = ok_writes;
  }
  void fail_next_lists(int n) {
    std::lock_guard lock(mutex_);
    fail_lists_ = n;
  }
  // Every write to `menu` leaves `field` = `value`, as a router that normalises a value differently would.
  void rewrite_on_write(std::string_view menu, std::string field, std::string value) {
    std::lock_guard lock(mutex_);
    rewrites_[std::string(menu)] = {std::move(field), std::move(value)};
  }
  // Reads wait while held: a round stays in flight until release_lists().
  void hold_lists() {
    std::lock_guard lock(mutex_);
    held_ = true;
  }
  void release_lists() {
    {
      std::lock_guard lock(mutex_);
      held_ = false;
    }
    released_.notify_all();
  }
  int lists_waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_;
  }
  int writes() const {
    std::lock_guard lock(mutex_);
    return writes_;
  }
  std::vector<std::string> addresses() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    auto it = tables_.find(std::string(menu::address_list));
    if (it != tables_.end())
      for (const auto& r : it->second) out.push_back(r.at("address"));
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string src_address() const {
    std::lock_guard lock(mutex_);
    auto it = tables_.find(std::string(menu::mangle));
    return it == tables_.end() || it->second.empty() ? "" : it->second.front().at("src-address");
  }
  std::size_t count(std::string_view menu) const {
    std::lock_guard lock(mutex_);
    auto it = tables_.find(std::string(menu));
    return it == tables_.end() ? 0 : it->second.size();
  }

 private:
  std::optional<Error> write_fault() {
    if (fail_after_ >= 0 && writes_ >= fail_after_) {
      fail_after_ = -1;  // one failure, then normal again
      return make_error("PUT: 500 Internal Server Error");
    }
    ++writes_;
    return std::nullopt;
  }
  RosObject rewritten(std::string_view menu, RosObject o) const {
    if (auto it = rewrites_.find(std::string(menu)); it != rewrites_.end())
      o[it->second.first] = it->second.second;
    return o;
  }
  RosObject* find(std::string_view menu, std::string_view id) {
    for (auto& r : tables_[std::string(menu)])
      if (r.at(".id") == id) return &r;
    return nullptr;
  }

  mutable std::mutex mutex_;
  std::condition_variable released_;
  bool held_ = false;
  int waiting_ = 0;
  std::map<std::string, std::pair<std::string, std::string>> rewrites_;
  std::map<std::string, std::vector<RosObject>> tables_;
  int next_id_ = 0, writes_ = 0, gets_ = 0, fail_after_ = -1, fail_lists_ = 0;
};

// Forwards to a FakeRouter owned by the test (the Agent wants ownership of its RouterApi).
class RouterRef final : public RouterApi {
 public:
  explicit RouterRef(FakeRouter& r) : r_(r) {}
  Result<std::vector<RosObject>> list(std::string_view m) override { return r_.list(m); }
  Result<RosObject> add(std::string_view m, const RosObject& f) override { return r_.add(m, f); }
  Result<RosObject> set(std::string_view m, std::string_view id, const RosObject& f) override {
    return r_.set(m, id, f);
  }
  Status remove(std::string_view m, std::string_view id) override { return r_.remove(m, id); }
  Status move(std::string_view m, const std::vector<std::string>& ids, std::string_view d) override {
    return r_.move(m, ids, d);
  }

 private:
  FakeRouter& r_;
};

// A source the test drives: it reports `set` on start and whenever the test calls push().
class TestSource final : public PrefixSource {
 public:
  TestSource(std::string name, std::vector<PrefixObservation> set, bool silent = false)
      : name_(std::move(name)), set_(std::move(set)), silent_(silent) {}
  std::string name() const override { return name_; }
  void start(boost::asio::io_context& io, Callback cb) override {
    io_ = &io;
    cb_ = std::move(cb);
    if (!silent_) push(set_);
  }
  void stop() override { cb_ = nullptr; }
  void push(std::vector<PrefixObservation> set) {
    boost::asio::post(*io_, [this, set = std::move(set)] {
      if (cb_) cb_(set);
    });
  }

 private:
  std::string name_;
  std::vector<PrefixObservation> set_;
  bool silent_;
  boost::asio::io_context* io_ = nullptr;
  Callback cb_;
};

PrefixObservation obs(const char* p, const char* source = "test") {
  return {P(p), 86400s, 3600s, source};
}

// Runs `io` until `done()` or 20 s.
template <class Pred>
bool run_until(boost::asio::io_context& io, Pred done) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(20ms);
  }
  return true;
}

// One "dhcp" source that starts with `prefix`, and a handle on it that stays valid while the agent owns it.
struct OneSource {
  std::vector<std::unique_ptr<PrefixSource>> sources;
  TestSource* dhcp;
};
OneSource one_dhcp_source(const char* prefix) {
  auto source = std::make_unique<TestSource>("dhcp", std::vector<PrefixObservation>{obs(prefix)});
  OneSource out{{}, source.get()};
  out.sources.push_back(std::move(source));
  return out;
}

}  // namespace

TEST_CASE("one-shot: plan exit codes and apply --once converging") {
  FakeRouter router;
  auto c = config();
  HomePrefixes home{{P("2001:db8:1200::/56")}, std::nullopt};
  std::ostringstream out, err;
  CHECK(run_plan(c, router, home, out, err) == exit_changes);
  CHECK(out.str().find("+ add") != std::string::npos);
  CHECK(router.writes() == 0);

  std::ostringstream out2, err2;
  CHECK(run_apply_once(c, router, home, out2, err2) == exit_ok);
  CHECK(router.writes() == 4);
  CHECK(out2.str().find("Router in sync.") != std::string::npos);

  std::ostringstream out3, err3;
  CHECK(run_plan(c, router, home, out3, err3) == exit_ok);
  CHECK(out3.str().find("No changes") != std::string::npos);
}

TEST_CASE("one-shot: a failed write stops the round -- the next apply re-reads and finishes") {
  FakeRouter router;
  auto c = config();
  HomePrefixes home{{P("2001:db8:1200::/56")}, std::nullopt};
  router.fail_writes_after(2);  // table and route succeed, the list entry fails
  std::ostringstream out, err;
  CHECK(run_apply_once(c, router, home, out, err) == exit_error);
  CHECK(err.str().find("500") != std::string::npos);
  CHECK(router.count(menu::mangle) == 0);  // nothing after the failure was sent
  CHECK(router.count(menu::route) == 1);

  std::ostringstream out2, err2;
  CHECK(run_apply_once(c, router, home, out2, err2) == exit_ok);
  CHECK(router.count(menu::mangle) == 1);
  CHECK(router.count(menu::route) == 1);
}

TEST_CASE("one-shot: a router that changes a value back fails after 3 rounds, naming the write") {
  FakeRouter router;
  router.rewrite_on_write(menu::route, "distance", "7");
  std::ostringstream out, err;
  CHECK(run_apply_once(config(), router, {{P("2001:db8:1200::/56")}, std::nullopt}, out, err) == exit_error);
  INFO(err.str());
  CHECK(err.str().find("still differs after 3 rounds") != std::string::npos);
  CHECK(err.str().find("set /ipv6/route") != std::string::npos);
  CHECK(err.str().find("distance=") != std::string::npos);
}

TEST_CASE("one-shot: a failed read is exit 1 with the menu named") {
  FakeRouter router;
  router.fail_next_lists(1);
  std::ostringstream out, err;
  CHECK(run_plan(config(), router, {{P("2001:db8:1200::/56")}, std::nullopt}, out, err) == exit_error);
  CHECK(err.str().find("/routing/table") != std::string::npos);
}

TEST_CASE("one-shot: gather waits for every source and refuses to go on without one") {
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(
      std::make_unique<TestSource>("a", std::vector<PrefixObservation>{obs("2001:db8:1200::/56")}));
  sources.push_back(std::make_unique<TestSource>("b", std::vector<PrefixObservation>{obs("fd00::/8")}));
  auto home = gather_home_prefixes(sources, 5000ms);
  REQUIRE(home.ok());
  CHECK(home->prefixes == std::vector<Ipv6Prefix>{P("2001:db8:1200::/56"), P("fd00::/8")});

  sources.push_back(std::make_unique<TestSource>("silent", std::vector<PrefixObservation>{}, true));
  auto missing = gather_home_prefixes(sources, 200ms);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("silent") != std::string::npos);

  std::vector<std::unique_ptr<PrefixSource>> none;
  auto empty = gather_home_prefixes(none, 200ms);
  REQUIRE(empty.ok());
  CHECK(empty->prefixes.empty());
}

TEST_CASE("daemon: converges, follows a new prefix, keeps the old one, reports status") {
  boost::asio::io_context io;
  FakeRouter router;
  auto [sources, dhcp] = one_dhcp_source("2001:db8:1200::/56");
  Agent agent(io, config(), std::make_unique<RouterRef>(router), std::move(sources), AgentOptions{});
  agent.start();

  REQUIRE(run_until(
      io, [&] { return router.count(menu::mangle) == 1 && agent.status().sync == SyncState::in_sync; }));
  CHECK(router.addresses() == std::vector<std::string>{"2001:db8:1200::/56"});
  AgentStatus s = agent.status();
  CHECK(s.effective == std::vector<Ipv6Prefix>{P("2001:db8:1200::/56")});
  REQUIRE(s.prefixes.size() == 1);
  CHECK(s.prefixes[0].sources == std::vector<std::string>{"dhcp"});
  CHECK(s.writes == 4);
  CHECK(s.last_sync.has_value());

  dhcp->push({obs("2001:db8:3400::/56")});
  REQUIRE(run_until(io, [&] { return router.addresses().size() == 2; }));
  // The old prefix is kept: its valid lifetime has not ended.
  CHECK(router.addresses() == std::vector<std::string>{"2001:db8:1200::/56", "2001:db8:3400::/56"});
  s = agent.status();
  CHECK(s.last_prefix_change_text.find("2001:db8:3400::/56") != std::string::npos);
  bool retained =
      std::any_of(s.prefixes.begin(), s.prefixes.end(), [](const PrefixState& p) { return p.retained; });
  CHECK(retained);
  // What `sixgate-agent status` and the control socket show (the production rendering).
  nlohmann::json j = agent_status_json(s, nullptr);
  CHECK(j["sync"]["state"] == "in_sync");
  CHECK(j["healthy"] == true);
  REQUIRE(j["prefixes"].size() == 2);
  CHECK(j["prefixes"][0]["effective"] == true);
  CHECK(j["prefixes"][1]["effective"] == true);
  CHECK((j["prefixes"][0]["retained"] == true || j["prefixes"][1]["retained"] == true));
  agent.stop();
}

TEST_CASE("daemon: a failing router sets status error, and the retry converges") {
  boost::asio::io_context io;
  FakeRouter router;
  router.fail_next_lists(2);
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(
      std::make_unique<TestSource>("dhcp", std::vector<PrefixObservation>{obs("2001:db8:1200::/56")}));
  AgentOptions options;
  options.backoff_base = 10ms;
  Agent agent(io, config(), std::make_unique<RouterRef>(router), std::move(sources), options);
  agent.start();
  REQUIRE(run_until(io, [&] { return agent.status().sync == SyncState::error; }));
  CHECK(agent.status().sync_reason.find("500") != std::string::npos);
  REQUIRE(run_until(io, [&] { return agent.status().sync == SyncState::in_sync; }));
  CHECK(router.count(menu::mangle) == 1);
  agent.stop();
}

TEST_CASE("daemon: stop() returns promptly while a round waits on a slow router") {
  if (!sixgate::test::emulator_prerequisites()) {
    WARN("python3 or openssl missing: RouterOS emulator test not run");
    return;
  }
  sixgate::test::Emulator emu;
  routeros::ClientOptions o = emu.options();
  o.timeout = 60s;
  routeros::Client client(o, emu.credentials());
  emu.fault(R"({"kind":"slow","count":1,"delay_ms":30000})");
  boost::asio::io_context io;
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(
      std::make_unique<TestSource>("dhcp", std::vector<PrefixObservation>{obs("2001:db8:1200::/56")}));
  Agent agent(io, config(), make_router_api(client), std::move(sources), AgentOptions{});
  agent.start();
  auto slow_reply_started = [&] {
    return nlohmann::json::parse(emu.control("GET", "/_emu/counters"))["faults_applied"] == 1;
  };
  REQUIRE(run_until(io, slow_reply_started));
  const auto started = std::chrono::steady_clock::now();
  agent.stop();
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("daemon: a router that never converges is a sync error naming the write, not in sync") {
  boost::asio::io_context io;
  FakeRouter router;
  router.rewrite_on_write(menu::route, "distance", "7");
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(
      std::make_unique<TestSource>("dhcp", std::vector<PrefixObservation>{obs("2001:db8:1200::/56")}));
  Agent agent(io, config(), std::make_unique<RouterRef>(router), std::move(sources), AgentOptions{});
  agent.start();
  // Round 1 creates everything, the verification and the resyncs (1 s apart) each set the distance again.
  REQUIRE(run_until(io, [&] { return agent.status().sync == SyncState::error; }));
  const AgentStatus s = agent.status();
  INFO(s.sync_reason);
  CHECK(s.sync_reason.find("still differs after 3 rounds") != std::string::npos);
  CHECK(s.sync_reason.find("set /ipv6/route") != std::string::npos);
  agent.stop();
}

TEST_CASE("daemon: a prefix change during a failing round is retried promptly, not after the backoff") {
  boost::asio::io_context io;
  FakeRouter router;
  auto [sources, dhcp] = one_dhcp_source("2001:db8:1200::/56");
  AgentOptions options;
  options.backoff_base = 60s;  // a plain retry would come long after run_until gives up
  options.pending_retry = 10ms;
  Agent agent(io, config(), std::make_unique<RouterRef>(router), std::move(sources), options);
  agent.start();
  REQUIRE(run_until(io, [&] { return agent.status().sync == SyncState::in_sync; }));

  router.hold_lists();
  router.fail_next_lists(1);
  agent.request_reconcile("test: a round that will fail");
  REQUIRE(run_until(io, [&] { return router.lists_waiting() == 1; }));
  dhcp->push({obs("2001:db8:1200::/56"), obs("2001:db8:3400::/56")});
  REQUIRE(run_until(io, [&] { return agent.status().effective.size() == 2; }));
  router.release_lists();

  REQUIRE(run_until(io, [&] { return router.addresses().size() == 2; }));
  CHECK(router.addresses() == std::vector<std::string>{"2001:db8:1200::/56", "2001:db8:3400::/56"});
  agent.stop();
}

TEST_CASE("daemon: dry-run plans but never writes") {
  boost::asio::io_context io;
  FakeRouter router;
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(
      std::make_unique<TestSource>("dhcp", std::vector<PrefixObservation>{obs("2001:db8:1200::/56")}));
  AgentOptions options;
  options.dry_run = true;
  Agent agent(io, config(), std::make_unique<RouterRef>(router), std::move(sources), options);
  agent.start();
  REQUIRE(run_until(io, [&] { return agent.status().rounds >= 1; }));
  CHECK(agent.status().sync == SyncState::pending);
  CHECK(agent.status().dry_run);
  CHECK(router.writes() == 0);
  agent.stop();
}

TEST_CASE("daemon: a routed prefix from the proxy moves the rule's src-address") {
  boost::asio::io_context io;
  FakeRouter router;
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(
      std::make_unique<TestSource>("dhcp", std::vector<PrefixObservation>{obs("2001:db8:1200::/56")}));
  Agent agent(io, config(), std::make_unique<RouterRef>(router), std::move(sources), AgentOptions{});
  agent.start();
  REQUIRE(run_until(
      io, [&] { return router.count(menu::mangle) == 1 && agent.status().sync == SyncState::in_sync; }));
  const int writes = router.writes();
  agent.use_routed_prefix(P("2001:db8:1:2:1::/80"), "vps1");  // the same: nothing to do
  agent.use_routed_prefix(P("2001:db8:5:6:1::/80"), "vps1");
  REQUIRE(run_until(io, [&] { return router.src_address() == "2001:db8:5:6:1::/80"; }));
  CHECK(router.writes() == writes + 1);  // one PATCH of the rule
  CHECK(router.count(menu::mangle) == 1);
  agent.stop();
}
