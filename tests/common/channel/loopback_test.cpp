// ChannelServer and ChannelClient talking over ::1 (no tunnel): reports, replies, mismatches, wrong keys.
// Waits are bounded polls, not timing assertions.
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "common/channel/client.hpp"
#include "common/channel/server.hpp"
#include "test_keys.hpp"

using namespace sixgate::channel;
using sixgate::Ipv6Prefix;
using sixgate::channel::testing::key_of;

namespace {

struct Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread;
  void run() {
    thread = std::thread([this] { io.run(); });
  }
  template <class F>
  void sync(F f) {  // runs f on the loop's thread and waits
    std::promise<void> done;
    boost::asio::post(io, [&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }
  ~Loop() {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

bool wait_for(const std::function<bool()>& cond, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

// A UDP port on ::1 that was free a moment ago (the kernel's choice), so parallel test processes do not
// clash.
std::uint16_t test_port(int) {
  boost::asio::io_context io;
  boost::asio::ip::udp::socket probe(
      io, boost::asio::ip::udp::endpoint(boost::asio::ip::address_v6::loopback(), 0));
  return probe.local_endpoint().port();
}

ServerOptions server_options(std::uint16_t port) {
  ServerOptions o;
  o.listen.push_back(parse_channel_address("[::1]:" + std::to_string(port)).value());
  o.sites.push_back({"home", key_of(1), Ipv6Prefix::parse("2001:db8:0:0:1::/80").value(), "fe80::1"});
  o.sites.push_back({"friend", key_of(2), Ipv6Prefix::parse("2001:db8:0:0:2::/80").value(), "fe80::1"});
  o.nat46_prefix = Ipv6Prefix::parse("64:ff9b:1::/96").value();
  o.sender_id = "vps1";
  return o;
}

ClientOptions client_options(std::uint16_t port, const std::string& site, SiteKey key) {
  ClientOptions o;
  o.site = site;
  o.sender_id = "agent-" + site;
  o.peers.push_back({"vps1", parse_channel_address("[::1]:" + std::to_string(port)).value(), std::move(key)});
  o.heartbeat = std::chrono::milliseconds(300);
  o.poll_interval = std::chrono::milliseconds(50);
  return o;
}

struct LocalState {
  std::mutex m;
  AgentReport report;
  AgentReport get() {
    std::lock_guard lock(m);
    return report;
  }
  void set_prefix(const std::string& p) {
    std::lock_guard lock(m);
    report.prefixes = {{Ipv6Prefix::parse(p).value(), 3600, 1800}};
    report.sync = SyncState::in_sync;
  }
};

nlohmann::json site_state(const ChannelServer& s, const std::string& name) {
  const auto state = s.state_json();
  for (const auto& site : state["sites"])
    if (site["name"] == name) return site;
  return nullptr;
}

std::string first_prefix(const nlohmann::json& site) {
  if (site.is_null() || site["peers"].empty() || site["peers"][0]["prefixes"].empty()) return "";
  return site["peers"][0]["prefixes"][0]["prefix"];
}

}  // namespace

TEST_CASE("loopback: agent report reaches the proxy, changes are pushed, the reply reaches the agent") {
  const auto port = test_port(1);
  Loop loop;
  auto server = ChannelServer::create(loop.io, server_options(port)).value();
  LocalState local;
  local.set_prefix("2001:db8:aaaa::/56");
  local.report.routed_prefix = Ipv6Prefix::parse("2001:db8:0:0:9::/80").value();  // disagrees with the proxy
  auto copts = client_options(port, "home", key_of(1));
  auto client = ChannelClient::create(loop.io, copts, [&] { return local.get(); }).value();
  loop.run();
  loop.sync([&] {
    server->start();
    client->start();
  });

  REQUIRE(wait_for([&] { return first_prefix(site_state(*server, "home")) == "2001:db8:aaaa::/56"; }));
  auto home = site_state(*server, "home");
  CHECK(home["health"] == "ok");
  CHECK(home["peers"][0]["sender"] == "agent-home");
  CHECK(home["peers"][0]["sync"]["state"] == "in_sync");
  CHECK(site_state(*server, "friend")["health"] == "never_seen");
  CHECK(server->state_json()["healthy"] == false);  // friend never reported

  nlohmann::json peer;  // one snapshot for the wait and the checks (see the two-proxy case)
  REQUIRE(wait_for([&] {
    peer = client->state_json()["peers"][0];
    return peer["state"] == "ok";
  }));
  auto info = client->proxy_info("vps1");
  REQUIRE(info.has_value());
  CHECK(info->routed_prefix.to_string() == "2001:db8:0:0:1::/80");
  CHECK(info->nat46_prefix->to_string() == "64:ff9b:1::/96");
  CHECK(info->gateway == "fe80::1");
  const auto& mismatches = peer["mismatches"];
  REQUIRE(mismatches.size() == 1);
  CHECK(mismatches[0].get<std::string>().find("routed prefix") != std::string::npos);

  local.set_prefix("2001:db8:bbbb::/56");
  CHECK(wait_for([&] { return first_prefix(site_state(*server, "home")) == "2001:db8:bbbb::/56"; }));

  loop.sync([&] {
    client->stop();
    server->stop();
  });
}

TEST_CASE("loopback: a client with another site's key is refused, the right key for its own site works") {
  const auto port = test_port(2);
  Loop loop;
  auto server = ChannelServer::create(loop.io, server_options(port)).value();
  LocalState local;
  local.set_prefix("2001:db8:cccc::/56");
  // Claims "friend" but holds home's key.
  auto impostor = ChannelClient::create(loop.io, client_options(port, "friend", key_of(1)), [&] {
                    return local.get();
                  }).value();
  auto genuine = ChannelClient::create(loop.io, client_options(port, "friend", key_of(2)), [&] {
                   return local.get();
                 }).value();
  loop.run();
  loop.sync([&] {
    server->start();
    impostor->start();
  });
  REQUIRE(wait_for([&] { return site_state(*server, "friend")["counters"]["dropped"]["bad_mac"] >= 2; }));
  CHECK(site_state(*server, "friend")["health"] == "never_seen");
  CHECK(impostor->state_json()["peers"][0]["proxy"].is_null());

  loop.sync([&] { genuine->start(); });
  CHECK(wait_for([&] { return site_state(*server, "friend")["health"] == "ok"; }));
  loop.sync([&] {
    impostor->stop();
    genuine->stop();
    server->stop();
  });
}

TEST_CASE("loopback: the proxy goes quiet, the agent shows it stale") {
  const auto port = test_port(3);
  Loop loop;
  auto server = ChannelServer::create(loop.io, server_options(port)).value();
  LocalState local;
  local.set_prefix("2001:db8:dddd::/56");
  auto client = ChannelClient::create(loop.io, client_options(port, "home", key_of(1)), [&] {
                  return local.get();
                }).value();
  loop.run();
  loop.sync([&] {
    server->start();
    client->start();
  });
  nlohmann::json state;
  REQUIRE(wait_for([&] {
    state = client->state_json();
    return state["peers"][0]["state"] == "ok";
  }));
  CHECK(state["healthy"] == true);
  loop.sync([&] { server->stop(); });
  REQUIRE(wait_for([&] { return client->state_json()["peers"][0]["state"] == "stale"; }));
  CHECK(client->state_json()["healthy"] == false);
  loop.sync([&] { client->stop(); });
}

TEST_CASE("loopback: listen address syntax, link-local needs a zone, unknown interface is an error") {
  CHECK(parse_channel_address("[fe80::1%lo]:7443").ok());
  CHECK_FALSE(parse_channel_address("[fe80::1]:7443").ok());
  CHECK_FALSE(parse_channel_address("fe80::1:7443").ok());
  CHECK_FALSE(parse_channel_address("[::1]:0").ok());
  CHECK_FALSE(parse_channel_address("[::1]:70000").ok());
  CHECK(parse_channel_address("192.0.2.1:7443").ok());
  auto lo = resolve_channel_address(parse_channel_address("[fe80::1%lo]:7443").value());
  REQUIRE(lo.ok());
  CHECK(lo->address().to_v6().scope_id() != 0);
  auto missing = resolve_channel_address(parse_channel_address("[fe80::1%sgchnope0]:7443").value());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("sgchnope0") != std::string::npos);
}

TEST_CASE("loopback: server options are validated, an unbindable listen address shows in the state") {
  boost::asio::io_context io;
  auto no_listen = server_options(test_port(4));
  no_listen.listen.clear();
  CHECK_FALSE(ChannelServer::create(io, no_listen).ok());
  auto twice = server_options(test_port(4));
  twice.sites.push_back(twice.sites.front());
  auto dup = ChannelServer::create(io, twice);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().message.find("twice") != std::string::npos);
  for (const char* wildcard : {"[::]:7443", "0.0.0.0:7443"}) {
    auto open_to_all = server_options(test_port(4));
    open_to_all.listen = {parse_channel_address(wildcard).value()};
    auto refused = ChannelServer::create(io, open_to_all);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find("channel.listen") != std::string::npos);
    CHECK(refused.error().message.find("wildcard") != std::string::npos);
  }
  auto shared_key = server_options(test_port(4));
  shared_key.sites[1].key = shared_key.sites[0].key;
  auto one_key = ChannelServer::create(io, shared_key);
  REQUIRE_FALSE(one_key.ok());
  CHECK(one_key.error().message.find("same key") != std::string::npos);
  auto overlapping = server_options(test_port(4));
  overlapping.sites[1].routed_prefix = Ipv6Prefix::parse("2001:db8::/48").value();  // contains home's /80
  auto overlap = ChannelServer::create(io, overlapping);
  REQUIRE_FALSE(overlap.ok());
  CHECK(overlap.error().message.find("overlaps") != std::string::npos);
  auto bad_name = server_options(test_port(4));
  bad_name.sites.front().name = "home site";
  CHECK_FALSE(ChannelServer::create(io, bad_name).ok());

  auto missing = server_options(test_port(4));
  missing.listen = {parse_channel_address("[fe80::1%sgchnope0]:7443").value()};
  auto server = ChannelServer::create(io, missing).value();
  server->start();
  auto state = server->state_json();
  CHECK(state["listen"][0]["bound"] == false);
  CHECK(state["listen"][0]["error"].get<std::string>().find("sgchnope0") != std::string::npos);
  CHECK(state["healthy"] == false);
  server->stop();

  ClientOptions no_site = client_options(test_port(4), "", key_of(1));
  CHECK_FALSE(ChannelClient::create(io, no_site, [] { return AgentReport{}; }).ok());
  ClientOptions fast = client_options(test_port(4), "home", key_of(1));
  fast.heartbeat = std::chrono::milliseconds(10);
  CHECK_FALSE(ChannelClient::create(io, fast, [] { return AgentReport{}; }).ok());
}

TEST_CASE("loopback: an agent reporting to two proxies, each proxy's state is independent") {
  const auto port_a = test_port(5);
  auto port_b = test_port(6);
  while (port_b == port_a) port_b = test_port(6);
  Loop loop;
  auto proxy_a = ChannelServer::create(loop.io, server_options(port_a)).value();
  auto options_b = server_options(port_b);
  options_b.sender_id = "vps2";
  options_b.sites.front().routed_prefix = Ipv6Prefix::parse("2001:db8:0:0:7::/80").value();  // disagrees
  auto proxy_b = ChannelServer::create(loop.io, options_b).value();
  LocalState local;
  local.set_prefix("2001:db8:eeee::/56");
  local.report.routed_prefix = Ipv6Prefix::parse("2001:db8:0:0:1::/80").value();
  auto copts = client_options(port_a, "home", key_of(1));
  copts.peers.push_back(
      {"vps2", parse_channel_address("[::1]:" + std::to_string(port_b)).value(), key_of(1)});
  auto client = ChannelClient::create(loop.io, copts, [&] { return local.get(); }).value();
  loop.run();
  loop.sync([&] {
    proxy_a->start();
    proxy_b->start();
    client->start();
  });
  REQUIRE(wait_for([&] {
    return first_prefix(site_state(*proxy_a, "home")) == "2001:db8:eeee::/56" &&
           first_prefix(site_state(*proxy_b, "home")) == "2001:db8:eeee::/56";
  }));
  // One snapshot for the wait and the checks: under load a late heartbeat can turn a peer stale in between.
  nlohmann::json peers;
  REQUIRE(wait_for([&] {
    peers = client->state_json()["peers"];
    return peers[0]["state"] == "ok" && peers[1]["state"] == "ok";
  }));
  CHECK(peers[0]["mismatches"].empty());
  CHECK(peers[1]["mismatches"].size() == 1);  // only vps2 disagrees with the agent's routed prefix

  loop.sync([&] { proxy_b->stop(); });
  // vps1 still answers: wait until a snapshot shows vps2 stale beside vps1 ok, then the proxy's own view.
  CHECK(wait_for([&] {
    peers = client->state_json()["peers"];
    return peers[1]["state"] == "stale" && peers[0]["state"] == "ok";
  }));
  CHECK(wait_for([&] { return site_state(*proxy_a, "home")["health"] == "ok"; }));
  loop.sync([&] {
    client->stop();
    proxy_a->stop();
  });
}

TEST_CASE("loopback: an agent that adopts the proxy's routed prefix reports it, no mismatch stays behind") {
  const auto port = test_port(7);
  Loop loop;
  auto server = ChannelServer::create(loop.io, server_options(port)).value();
  LocalState local;
  local.set_prefix("2001:db8:abab::/56");
  local.report.routed_prefix = Ipv6Prefix::parse("2001:db8:0:0:9::/80").value();  // stale configured value
  auto adopt = [&](const std::string&, const ProxyInfo& info) {
    std::lock_guard lock(local.m);
    local.report.routed_prefix = info.routed_prefix;
  };
  auto client = ChannelClient::create(
                    loop.io, client_options(port, "home", key_of(1)), [&] { return local.get(); }, adopt)
                    .value();
  loop.run();
  loop.sync([&] {
    server->start();
    client->start();
  });
  auto proxy_view = [&] { return site_state(*server, "home")["peers"]; };
  REQUIRE(wait_for([&] {
    auto peers = proxy_view();
    return !peers.empty() && peers[0]["agent_routed_prefix"] == "2001:db8:0:0:1::/80";
  }));
  CHECK(proxy_view()[0]["routed_prefix_mismatch"] == false);
  CHECK(client->state_json()["peers"][0]["mismatches"].empty());
  loop.sync([&] {
    client->stop();
    server->stop();
  });
}
