#pragma once
// sixgate-proxy's side of the agent<->proxy channel and its control socket, built from ProxyConfig.
// Wiring (main.cpp): on the io_context that runs the daemon's signals (one thread):
//   auto channel = sixgate::proxy::start_channel_server(io, config).value();        // nullptr: no channel
//   configured auto control = sixgate::proxy::start_control_socket(io, config, channel.get()).value();
// Destroy both (or call channel->stop()) on that thread before the io_context goes away.
#include <memory>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/channel/server.hpp"
#include "common/control/server.hpp"
#include "common/result.hpp"
#include "proxy/config.hpp"

namespace sixgate::proxy {

// Loads every site's key file; errors name the site and the file.
Result<channel::ServerOptions> channel_server_options(const ProxyConfig& config);

// Creates and starts the server when config.channel is set; a null pointer when it is not.
Result<std::unique_ptr<channel::ChannelServer>> start_channel_server(boost::asio::io_context& io,
                                                                     const ProxyConfig& config);

// {"daemon":"sixgate-proxy","version":..,"healthy":..,"channel":<ChannelServer::state_json()>|null}
// Healthy when no channel is configured, else when the channel says so.
nlohmann::json proxy_status_json(const channel::ChannelServer* channel);

// Listens on config.control_socket and answers {"command":"status"} with proxy_status_json(channel).
// `channel` may be null and must outlive the returned server.
Result<std::unique_ptr<control::ControlServer>> start_control_socket(boost::asio::io_context& io,
                                                                     const ProxyConfig& config,
                                                                     const channel::ChannelServer* channel);

}  // namespace sixgate::proxy
