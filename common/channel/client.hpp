#pragma once
// The agent side of the channel: reports the local state (an AgentReport) to every configured proxy, at once
// when it changes and otherwise every heartbeat, and keeps what each proxy answers (ProxyInfo). Each proxy
// is independent: its own key, socket, replay window and state.
//
// Changes are found by polling the local-state callback every `poll_interval` (cheap: it copies a small
// struct) and comparing prefixes, sync state and last change; notify_local_change() sends at once. A
// changed report that is not acknowledged within a second is sent again (up to 3 times). A proxy's routed
// prefix is compared with the local state's after on_info ran (which may have adopted it).
// Threading: runs on the io_context given; state_json() and notify_local_change() may be called from any
// thread.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/channel/endpoint.hpp"
#include "common/channel/key.hpp"
#include "common/channel/payload.hpp"

namespace sixgate::channel {

struct ClientPeer {
  std::string name;  // for logs and status, e.g. "vps1"
  ChannelAddress address;
  SiteKey key;
};

struct ClientOptions {
  std::string site;
  std::string sender_id;  // empty: default_sender_id()
  std::vector<ClientPeer> peers;
  std::chrono::milliseconds heartbeat{10000};
  std::chrono::milliseconds poll_interval{500};
  std::string version = SIXGATE_VERSION;
};

class ChannelClient {
 public:
  // Called on the io_context's thread. agent_version and heartbeat_ms are filled in by the client. Its
  // routed_prefix is the agent's current one: a proxy that says otherwise is reported as a mismatch.
  using LocalState = std::function<AgentReport()>;
  using ProxyInfoCallback = std::function<void(const std::string& peer, const ProxyInfo& info)>;

  static Result<std::unique_ptr<ChannelClient>> create(boost::asio::io_context& io, ClientOptions options,
                                                       LocalState local_state,
                                                       ProxyInfoCallback on_info = {});
  ~ChannelClient();
  ChannelClient(const ChannelClient&) = delete;
  ChannelClient& operator=(const ChannelClient&) = delete;

  void start();  // on the io_context's thread (or before it runs)
  void stop();
  void notify_local_change();

  // {"healthy":..,"site":..,"sender_id":..,"heartbeat_ms":..,"peers":[{"name","address","state",
  //  "last_seen_unix_ms","last_seen_ago_ms","proxy":{...}|null,"mismatches":[..],"acked":..,"send_error":..,
  //  "counters":{...}}]}  (docs/channel-protocol.md, "Status JSON")
  nlohmann::json state_json() const;

  // The latest ProxyInfo from `peer`, if any arrived.
  std::optional<ProxyInfo> proxy_info(const std::string& peer) const;

  struct Impl;

 private:
  explicit ChannelClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// Shrinks a report until its JSON fits one datagram (reason text first, then trailing prefixes); sets
// "truncated" in the JSON when anything was cut. Returns the payload text.
std::string fit_report_payload(AgentReport report, std::size_t max_payload);

}  // namespace sixgate::channel
