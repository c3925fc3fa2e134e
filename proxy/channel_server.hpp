#pragma once
// sixgate-proxy's side of the agent<->proxy channel and its control socket, built from ProxyConfig.
// Wiring (main.cpp): on the io_context that runs the daemon's signals (one thread):
//   auto channel = sixgate::proxy::start_channel_server(io, config).value();        // nullptr: no channel
//   configured auto control = sixgate::proxy::start_control_socket(io, config, channel.get()).value();
// Destroy both (or call channel->stop()) on that thread before the io_context goes away.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/channel/server.hpp"
#include "common/control/server.hpp"
#include "common/result.hpp"
#include "proxy/config.hpp"
#include "proxy/connection_tally.hpp"

namespace sixgate::proxy {

// Loads every site's key file; errors name the site and the file.
Result<channel::ServerOptions> channel_server_options(const ProxyConfig& config);

// Creates and starts the server when config.channel is set; a null pointer when it is not.
Result<std::unique_ptr<channel::ChannelServer>> start_channel_server(boost::asio::io_context& io,
                                                                     const ProxyConfig& config);

// What the status shows of the proxy's own work, read when it is asked for.
struct ProxyActivity {
  std::size_t active_connections = 0;  // accepted and not yet logged, all workers
  std::size_t max_connections = 0;
  unsigned workers = 0;
  std::uint64_t log_dropped_bytes = 0;  // log lines stderr refused (log::dropped_bytes())
  TallyTotals ended;                    // connections ended since start, all workers
};
using ActivitySource = std::function<ProxyActivity()>;

// {"daemon":"sixgate-proxy","version":..,"healthy":..,"connections":{"active":..,"max":..},"workers":..,
//  "ended":{"relayed":..,"refused":..,"stopped":..,"up_bytes":..,"down_bytes":..,"reasons":{"closed":..,..}},
//  "log_dropped_bytes":..,"channel":<ChannelServer::state_json()>|null}
// Healthy when no channel is configured, else when the channel says so.
nlohmann::json proxy_status_json(const channel::ChannelServer* channel, const ProxyActivity& activity);

// Listens on config.control_socket and answers {"command":"status"} with proxy_status_json(channel,
// activity()). `channel` may be null; it and whatever `activity` reads must outlive the returned server.
Result<std::unique_ptr<control::ControlServer>> start_control_socket(boost::asio::io_context& io,
                                                                     const ProxyConfig& config,
                                                                     const channel::ChannelServer* channel,
                                                                     ActivitySource activity);

}  // namespace sixgate::proxy
