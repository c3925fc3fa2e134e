#pragma once
// The proxy side of the channel: UDP sockets on the configured tunnel addresses, one key per site. Each
// accepted agent_report updates that site's view and is answered with a proxy_info to the sender.
//
// A listen address that cannot be bound yet (the WireGuard interface or its address is not up) is retried
// every `rebind_interval`; a zone whose interface index changed (interface recreated) is re-bound too.
// Threading: everything runs on the io_context given; state_json() may be called from any thread.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "common/channel/endpoint.hpp"
#include "common/channel/key.hpp"
#include "common/channel/payload.hpp"
#include "common/channel/receiver.hpp"
#include "common/channel/replay.hpp"

namespace sixgate::channel {

struct ServerSite {
  std::string name;
  SiteKey key;
  Ipv6Prefix routed_prefix;
  std::string gateway;  // as sent to the agent, e.g. "fe80::1"
};

struct ServerOptions {
  std::vector<ChannelAddress> listen;
  std::vector<ServerSite> sites;
  std::optional<Ipv6Prefix> nat46_prefix;
  std::string sender_id;  // this proxy's id in messages; empty: default_sender_id()
  std::string version = SIXGATE_VERSION;
  std::chrono::milliseconds rebind_interval{5000};
};

// The host name reduced to the id alphabet ([A-Za-z0-9._-], at most 63 bytes), "sixgate" if none is left.
std::string default_sender_id();

class ChannelServer {
 public:
  using ReportCallback = std::function<void(const std::string& site, const AgentReport& report)>;

  // Fails on an invalid option (bad site name, duplicate site, no listen address).
  static Result<std::unique_ptr<ChannelServer>> create(boost::asio::io_context& io, ServerOptions options,
                                                       ReportCallback on_report = {});
  ~ChannelServer();
  ChannelServer(const ChannelServer&) = delete;
  ChannelServer& operator=(const ChannelServer&) = delete;

  void start();  // binds what it can, schedules retries; on the io_context's thread (or before it runs)
  void stop();   // closes the sockets; on the io_context's thread

  // {"healthy":..,"sender_id":..,"listen":[{"address","bound","error"}],"counters":{...},
  //  "sites":[{"name","routed_prefix","gateway","health","peers":[...],"counters":{...}}]}
  // See docs/channel-protocol.md, "Status JSON".
  nlohmann::json state_json() const;

  struct Impl;

 private:
  explicit ChannelServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace sixgate::channel
