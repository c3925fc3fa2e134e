#include "proxy/channel_server.hpp"

namespace sixgate::proxy {

Result<channel::ServerOptions> channel_server_options(const ProxyConfig& config) {
  if (!config.channel) return make_error("channel: not configured");
  const auto& cc = *config.channel;
  channel::ServerOptions options;
  for (const auto& text : cc.listen) {
    auto address = channel::parse_channel_address(text);
    if (!address) return make_error("channel.listen: " + address.error().message);
    options.listen.push_back(*address);
  }
  for (const auto& site : cc.sites) {
    auto key = channel::load_key_file(site.key_file);
    if (!key) return make_error("channel.site \"" + site.name + "\": key_file: " + key.error().message);
    std::string gateway = site.gateway;
    if (gateway.empty() && !options.listen.empty()) {
      // The tunnel address the proxy listens on is the home side's gateway, without the proxy's zone.
      const auto& host = options.listen.front().host;
      gateway = host.substr(0, host.find('%'));
    }
    options.sites.push_back({site.name, *key, site.routed_prefix, gateway});
  }
  options.nat46_prefix = config.nat46_prefix;
  return options;
}

Result<std::unique_ptr<channel::ChannelServer>> start_channel_server(boost::asio::io_context& io,
                                                                     const ProxyConfig& config) {
  if (!config.channel) return std::unique_ptr<channel::ChannelServer>();
  auto options = channel_server_options(config);
  if (!options) return options.error();
  auto server = channel::ChannelServer::create(io, std::move(*options));
  if (!server) return server.error();
  auto started = std::move(server).value();
  started->start();
  return started;
}

nlohmann::json proxy_status_json(const channel::ChannelServer* channel, const ProxyActivity& activity) {
  nlohmann::json out = {
      {"daemon", "sixgate-proxy"},
      {"version", SIXGATE_VERSION},
      {"connections", {{"active", activity.active_connections}, {"max", activity.max_connections}}},
      {"workers", activity.workers},
      {"ended",
       {{"relayed", activity.ended.relayed},
        {"refused", activity.ended.refused},
        {"stopped", activity.ended.stopped},
        {"up_bytes", activity.ended.up_bytes},
        {"down_bytes", activity.ended.down_bytes},
        {"reasons", activity.ended.reasons}}},
      {"log_dropped_bytes", activity.log_dropped_bytes}};
  if (channel == nullptr) {
    out["healthy"] = true;
    out["channel"] = nullptr;
    return out;
  }
  auto state = channel->state_json();
  out["healthy"] = state.value("healthy", false);
  out["channel"] = std::move(state);
  return out;
}

Result<std::unique_ptr<control::ControlServer>> start_control_socket(boost::asio::io_context& io,
                                                                     const ProxyConfig& config,
                                                                     const channel::ChannelServer* channel,
                                                                     ActivitySource activity) {
  return control::ControlServer::start(
      io, config.control_socket, control::status_only_handler([channel, activity = std::move(activity)] {
        return proxy_status_json(channel, activity());
      }));
}

}  // namespace sixgate::proxy
