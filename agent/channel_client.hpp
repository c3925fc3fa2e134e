#pragma once
// sixgate-agent's side of the agent<->proxy channel and its control socket, built from AgentConfig.
// Wiring (main.cpp), on the io_context the Agent runs on (one thread):
//   auto status = [&agent] { return agent.status(); };
//   auto channel = sixgate::agent::start_channel_client(io, config, status).value();  // nullptr: no proxies
//   auto control = sixgate::agent::start_control_socket(io, config, status, channel.get()).value();
// The client notices changes of agent.status() by itself (polled every 500 ms); call
// channel->notify_local_change() after a prefix change to push it without that delay.
// Destroy both (or call channel->stop()) on that thread before the io_context goes away.
#include <functional>
#include <memory>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agent/agent_status.hpp"
#include "agent/core/config.hpp"
#include "common/channel/client.hpp"
#include "common/control/server.hpp"
#include "common/result.hpp"

namespace sixgate::agent {

using StatusGetter = std::function<AgentStatus()>;
// With channel.use_proxy_prefixes: called with the routed prefix a proxy says the site has. The agent has no
// NAT46 setting of its own (the router rules do not need it), so the proxy's NAT46 prefix is only shown.
using ProxyPrefixesCallback = std::function<void(const std::string& proxy, const Ipv6Prefix& routed)>;

// Checks every [[channel.proxy]] (unique name and address, a unicast address, key file readable, owner-only
// and long enough) and loads the keys; errors name the proxy, the config key and the file.
Result<channel::ClientOptions> channel_client_options(const AgentConfig& config);

// The report sent to the proxies for one status snapshot.
channel::AgentReport report_from_status(const AgentStatus& status);

// Creates and starts the client when proxies are configured; a null pointer when none are.
Result<std::unique_ptr<channel::ChannelClient>> start_channel_client(
    boost::asio::io_context& io, const AgentConfig& config, StatusGetter status,
    ProxyPrefixesCallback on_proxy_prefixes = {});

// {"daemon":"sixgate-agent","version","healthy","site","agent","dry_run","prefixes":[...],"sync":{...},
//  "last_change":{...},"channel":<ChannelClient::state_json()>|null}. Unhealthy on a sync error or when the
// channel is unhealthy (a proxy stale or never heard from).
nlohmann::json agent_status_json(const AgentStatus& status, const channel::ChannelClient* channel);

// Listens on config.agent.control_socket and answers {"command":"status"} with agent_status_json().
Result<std::unique_ptr<control::ControlServer>> start_control_socket(boost::asio::io_context& io,
                                                                     const AgentConfig& config,
                                                                     StatusGetter status,
                                                                     const channel::ChannelClient* channel);

}  // namespace sixgate::agent
