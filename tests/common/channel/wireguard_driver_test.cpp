// Driven by tests/integration/test_channel_wireguard.sh, which builds two network namespaces joined by a
// wireguard-go tunnel and sets SGCH_* variables. Hidden ([.]) so unit-test discovery never runs it.
// Each side runs on its own thread that first enters its namespace (setns), so every socket, interface
// lookup and re-bind of that side happens inside it.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "common/channel/client.hpp"
#include "common/channel/message.hpp"
#include "common/channel/replay.hpp"
#include "common/channel/server.hpp"

using namespace sixgate::channel;
using sixgate::Ipv6Prefix;
using Clock = std::chrono::steady_clock;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr)
    FAIL(std::string("run me through tests/integration/test_channel_wireguard.sh (") + name + " unset)");
  return v;
}

// An io_context on a thread living in one network namespace.
class NetnsLoop {
 public:
  explicit NetnsLoop(const std::string& netns_path) {
    std::promise<std::string> entered;
    thread_ = std::thread([this, netns_path, &entered] {
      int fd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        entered.set_value("cannot enter " + netns_path);
        return;
      }
      ::close(fd);
      entered.set_value("");
      io.run();
    });
    auto error = entered.get_future().get();
    if (!error.empty()) {
      guard_.reset();
      thread_.join();
      FAIL(error);
    }
  }
  ~NetnsLoop() {
    guard_.reset();
    io.stop();
    if (thread_.joinable()) thread_.join();
  }
  template <class F>
  auto sync(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return result.get();
  }
  boost::asio::io_context io;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{io.get_executor()};
  std::thread thread_;
};

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

void sh(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
}

struct Local {
  std::mutex m;
  AgentReport report;
  AgentReport get() {
    std::lock_guard lock(m);
    return report;
  }
  void set(const std::string& prefix) {
    std::lock_guard lock(m);
    report.prefixes = {{Ipv6Prefix::parse(prefix).value(), 86400, 14400}};
    report.sync = SyncState::in_sync;
    report.last_change_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  }
};

nlohmann::json site(const ChannelServer& server, const std::string& name) {
  const auto state = server.state_json();
  for (const auto& s : state["sites"])
    if (s["name"] == name) return s;
  return nullptr;
}

nlohmann::json peer(const ChannelServer& server, const std::string& site_name, const std::string& sender) {
  const auto s = site(server, site_name);
  if (s.is_null()) return nullptr;
  for (const auto& p : s["peers"])
    if (p["sender"] == sender) return p;
  return nullptr;
}

std::string prefix_of(const nlohmann::json& p) {
  if (p.is_null() || p["prefixes"].empty()) return "";
  return p["prefixes"][0]["prefix"];
}

std::uint64_t dropped(const ChannelServer& server, const std::string& site_name, const char* reason) {
  if (site_name.empty()) return server.state_json()["counters"]["dropped"][reason];
  return site(server, site_name)["counters"]["dropped"][reason];
}

}  // namespace

TEST_CASE("wireguard: channel across a real WireGuard tunnel between two namespaces", "[.wireguard]") {
  const std::string ns_vps = env("SGCH_NETNS_VPS"), ns_home = env("SGCH_NETNS_HOME");
  const std::string wg_vps = env("SGCH_WG_VPS"), wg_home = env("SGCH_WG_HOME");
  const std::string home_pub = env("SGCH_HOME_PUBKEY");
  const std::string routed = env("SGCH_ROUTED_PREFIX");
  const auto home_key = load_key_file(env("SGCH_KEY_HOME")).value();
  const auto friend_key = load_key_file(env("SGCH_KEY_FRIEND")).value();
  const std::string port = "7443";

  NetnsLoop vps(ns_vps);
  NetnsLoop home(ns_home);

  ServerOptions sopts;
  sopts.listen.push_back(parse_channel_address("[fe80::1%" + wg_vps + "]:" + port).value());
  sopts.sites.push_back({"home", home_key, Ipv6Prefix::parse(routed).value(), "fe80::1"});
  sopts.sites.push_back({"friend", friend_key, Ipv6Prefix::parse("2001:db8:0:0:2::/80").value(), "fe80::1"});
  sopts.nat46_prefix = Ipv6Prefix::parse("64:ff9b:1::/96").value();
  sopts.sender_id = "vps1";
  sopts.rebind_interval = std::chrono::milliseconds(500);
  auto server = ChannelServer::create(vps.io, sopts).value();
  vps.sync([&] { server->start(); });
  REQUIRE(server->state_json()["listen"][0]["bound"] == true);

  Local local;
  local.set("2001:db8:aaaa::/56");
  local.report.routed_prefix = Ipv6Prefix::parse(routed).value();
  ClientOptions copts;
  copts.site = "home";
  copts.sender_id = "agent-home";
  copts.peers.push_back(
      {"vps1", parse_channel_address("[fe80::1%" + wg_home + "]:" + port).value(), home_key});
  copts.heartbeat = std::chrono::milliseconds(1000);
  copts.poll_interval = std::chrono::milliseconds(100);
  auto client = ChannelClient::create(home.io, copts, [&] { return local.get(); }).value();
  home.sync([&] { client->start(); });

  SECTION("reports, prefix change within 2 s, rejections, tunnel down -> stale, AllowedIPs") {
    // First contact includes the WireGuard handshake.
    REQUIRE(wait_for([&] { return prefix_of(peer(*server, "home", "agent-home")) == "2001:db8:aaaa::/56"; },
                     std::chrono::seconds(15)));
    REQUIRE(
        wait_for([&] { return client->state_json()["peers"][0]["state"] == "ok"; }, std::chrono::seconds(5)));
    const auto info = client->proxy_info("vps1").value();
    CHECK(info.routed_prefix.to_string() == Ipv6Prefix::parse(routed).value().to_string());
    CHECK(client->state_json()["peers"][0]["mismatches"].empty());
    const auto first_peer = peer(*server, "home", "agent-home");
    CHECK(first_peer["address"].get<std::string>().find("fe80::2") != std::string::npos);
    std::cout << "proxy view after first contact: " << site(*server, "home").dump() << "\n";

    // 1. A prefix change on the agent side is visible on the proxy within 2 s.
    const auto changed_at = Clock::now();
    local.set("2001:db8:bbbb::/56");
    const bool seen =
        wait_for([&] { return prefix_of(peer(*server, "home", "agent-home")) == "2001:db8:bbbb::/56"; },
                 std::chrono::seconds(5));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - changed_at);
    std::cout << "prefix change visible on the proxy after " << took.count() << " ms\n";
    REQUIRE(seen);
    CHECK(took < std::chrono::seconds(2));

    // 2. Forged, replayed, stale, wrong-site, unknown-site and garbage datagrams, sent through the tunnel
    // from
    //    the home namespace, are all dropped and counted.
    const auto before_bad_mac_home = dropped(*server, "home", "bad_mac");
    const auto before_bad_mac_friend = dropped(*server, "friend", "bad_mac");
    const auto before_replay = dropped(*server, "home", "replay");
    const auto before_stale = dropped(*server, "home", "stale");
    const auto before_unknown = dropped(*server, "", "unknown_site");
    const auto before_malformed = dropped(*server, "", "malformed");
    home.sync([&] {
      namespace ip = boost::asio::ip;
      ip::udp::socket probe(home.io, ip::udp::v6());
      auto to =
          resolve_channel_address(parse_channel_address("[fe80::1%" + wg_home + "]:" + port).value()).value();
      AgentReport r;
      r.agent_version = "probe";
      r.heartbeat_ms = 1000;
      const std::string payload = to_json(r).dump();
      SendCounter counter;
      auto send = [&](const std::string& site_name, const SiteKey& key, std::uint64_t c) {
        auto bytes = encode_message({MessageType::agent_report, site_name, "probe", c, payload}, key).value();
        probe.send_to(boost::asio::buffer(bytes), to);
        return bytes;
      };
      const auto forged_key = SiteKey::from_bytes(std::vector<std::uint8_t>(32, 0x42)).value();
      send("home", forged_key, counter.next());      // forged: wrong key -> bad_mac (home)
      send("home", friend_key, counter.next());      // friend's key claiming home -> bad_mac (home)
      send("friend", home_key, counter.next());      // home's key claiming friend -> bad_mac (friend)
      send("nosuchsite", home_key, counter.next());  // -> unknown_site
      send("home", home_key, wall_clock_micros() - 60'000'000ULL);  // a minute old -> stale
      auto genuine = send("home", home_key, counter.next());        // accepted once ...
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      probe.send_to(boost::asio::buffer(genuine), to);  // ... and replayed -> replay
      const std::string garbage = "definitely not a channel message";
      probe.send_to(boost::asio::buffer(garbage), to);  // -> malformed
    });
    CHECK(wait_for([&] { return dropped(*server, "", "malformed") == before_malformed + 1; },
                   std::chrono::seconds(5)));
    CHECK(dropped(*server, "home", "bad_mac") == before_bad_mac_home + 2);
    CHECK(dropped(*server, "friend", "bad_mac") == before_bad_mac_friend + 1);
    CHECK(dropped(*server, "", "unknown_site") == before_unknown + 1);
    CHECK(dropped(*server, "home", "stale") == before_stale + 1);
    CHECK(dropped(*server, "home", "replay") == before_replay + 1);
    CHECK(peer(*server, "friend", "probe").is_null());
    CHECK(site(*server, "friend")["health"] == "never_seen");
    std::cout << "proxy counters after the probes: " << server->state_json()["counters"].dump() << "\n";

    // 3. Tunnel down on the home side: the proxy shows the agent stale (3 x heartbeat), the agent the proxy.
    sh("ip -n " + ns_home.substr(ns_home.rfind('/') + 1) + " link set " + wg_home + " down");
    CHECK(wait_for([&] { return peer(*server, "home", "agent-home")["stale"] == true; },
                   std::chrono::seconds(8)));
    // The site's health follows its most recently heard sender (the probe above counts as one, briefly).
    CHECK(wait_for([&] { return site(*server, "home")["health"] == "stale"; }, std::chrono::seconds(5)));
    CHECK(server->state_json()["healthy"] == false);
    CHECK(wait_for([&] { return client->state_json()["peers"][0]["state"] == "stale"; },
                   std::chrono::seconds(8)));
    std::cout << "agent view with the tunnel down: " << client->state_json()["peers"][0].dump() << "\n";

    // Back up (a link going down drops its IPv6 addresses): the agent is fresh again.
    const std::string home_ns_name = ns_home.substr(ns_home.rfind('/') + 1);
    sh("ip -n " + home_ns_name + " link set " + wg_home + " up");
    sh("ip -n " + home_ns_name + " -6 addr replace fe80::2/64 dev " + wg_home + " nodad");
    CHECK(wait_for([&] { return peer(*server, "home", "agent-home")["stale"] == false; },
                   std::chrono::seconds(10)));

    // 4. AllowedIPs: with the VPS peer allowing only the /80 (the reference setup), the agent's datagrams
    //    from fe80::2 are dropped by WireGuard and the agent goes stale again; adding fe80::2/128 heals it.
    const std::string vps_ns_name = ns_vps.substr(ns_vps.rfind('/') + 1);
    sh("ip netns exec " + vps_ns_name + " wg set " + wg_vps + " peer " + home_pub + " allowed-ips " + routed);
    CHECK(wait_for([&] { return peer(*server, "home", "agent-home")["stale"] == true; },
                   std::chrono::seconds(8)));
    sh("ip netns exec " + vps_ns_name + " wg set " + wg_vps + " peer " + home_pub + " allowed-ips " + routed +
       ",fe80::2/128");
    CHECK(wait_for([&] { return peer(*server, "home", "agent-home")["stale"] == false; },
                   std::chrono::seconds(10)));
  }

  home.sync([&] { client->stop(); });
  vps.sync([&] { server->stop(); });
}
