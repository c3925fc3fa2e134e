#include "agent/channel_client.hpp"

#include <set>

#include "common/channel/protocol.hpp"
#include "common/log.hpp"

namespace sixgate::agent {

namespace {

std::optional<std::int64_t> seconds_or_infinite(const std::optional<std::chrono::seconds>& s) {
  if (!s) return std::nullopt;
  return std::max<std::int64_t>(0, s->count());
}

std::int64_t unix_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Result<channel::ClientPeer> proxy_peer(const ChannelPeerConfig& proxy) {
  const std::string where = "channel.proxy \"" + proxy.name + "\": ";
  auto address = channel::parse_channel_address(proxy.address);
  if (!address) return make_error(where + "address: " + address.error().message);
  if (channel::is_wildcard(*address))
    return make_error(where + "address " + proxy.address + ": the unspecified address names no proxy");
  auto key = channel::load_key_file(proxy.key_file);
  if (!key) return make_error(where + "key_file: " + key.error().message);
  return channel::ClientPeer{proxy.name, *address, *key};
}

}  // namespace

Result<channel::ClientOptions> channel_client_options(const AgentConfig& config) {
  channel::ClientOptions options;
  options.site = config.site.name;
  options.heartbeat = std::chrono::seconds(config.channel.heartbeat_s);
  std::set<std::string> names, addresses;
  for (const auto& proxy : config.channel.proxies) {
    if (!channel::valid_name(proxy.name))
      return make_error("channel.proxy name \"" + log::bounded(proxy.name, 64) +
                        "\": use 1..63 of [A-Za-z0-9._-]");
    if (!names.insert(proxy.name).second)
      return make_error("channel.proxy \"" + proxy.name + "\": name used by two [[channel.proxy]] entries");
    auto peer = proxy_peer(proxy);
    if (!peer) return peer.error();
    if (!addresses.insert(peer->address.host + "|" + std::to_string(peer->address.port)).second)
      return make_error("channel.proxy \"" + proxy.name + "\": address " + proxy.address +
                        " is already used by another [[channel.proxy]]");
    options.peers.push_back(std::move(peer).value());
  }
  return options;
}

channel::AgentReport report_from_status(const AgentStatus& status) {
  channel::AgentReport r;
  for (const auto& p : status.prefixes)
    r.prefixes.push_back(
        {p.prefix, seconds_or_infinite(p.valid_remaining), seconds_or_infinite(p.preferred_remaining)});
  r.sync = status.sync;
  r.sync_reason = status.sync_reason;
  if (status.last_prefix_change) r.last_change_ms = unix_ms(*status.last_prefix_change);
  r.routed_prefix = status.routed_prefix;
  return r;
}

Result<std::unique_ptr<channel::ChannelClient>> start_channel_client(
    boost::asio::io_context& io, const AgentConfig& config, StatusGetter status,
    ProxyPrefixesCallback on_proxy_prefixes) {
  if (config.channel.proxies.empty()) return std::unique_ptr<channel::ChannelClient>();
  auto options = channel_client_options(config);
  if (!options) return options.error();
  channel::ChannelClient::ProxyInfoCallback on_info;
  if (config.channel.use_proxy_prefixes && on_proxy_prefixes)
    on_info = [on_proxy_prefixes](const std::string& proxy, const channel::ProxyInfo& info) {
      on_proxy_prefixes(proxy, info.routed_prefix);
    };
  auto client = channel::ChannelClient::create(
      io, std::move(*options), [status = std::move(status)] { return report_from_status(status()); },
      std::move(on_info));
  if (!client) return client.error();
  auto started = std::move(client).value();
  started->start();
  return started;
}

nlohmann::json agent_status_json(const AgentStatus& status, const channel::ChannelClient* channel) {
  nlohmann::json prefixes = nlohmann::json::array();
  for (const auto& p : status.prefixes) {
    auto valid = seconds_or_infinite(p.valid_remaining);
    auto preferred = seconds_or_infinite(p.preferred_remaining);
    prefixes.push_back({{"prefix", p.prefix.to_string()},
                        {"valid_s", valid ? nlohmann::json(*valid) : nullptr},
                        {"preferred_s", preferred ? nlohmann::json(*preferred) : nullptr},
                        {"effective", p.effective},
                        {"retained", p.retained},
                        {"sources", p.sources}});
  }
  nlohmann::json out = {
      {"daemon", "sixgate-agent"},
      {"version", SIXGATE_VERSION},
      {"site", status.site_name},
      {"agent", status.agent_name},
      {"dry_run", status.dry_run},
      {"prefixes", prefixes},
      {"sync",
       {{"state", std::string(to_string(status.sync))},
        {"reason", status.sync_reason},
        {"last_sync_unix_ms", status.last_sync ? nlohmann::json(unix_ms(*status.last_sync)) : nullptr}}},
      {"last_change",
       {{"unix_ms",
         status.last_prefix_change ? nlohmann::json(unix_ms(*status.last_prefix_change)) : nullptr},
        {"text", status.last_prefix_change_text}}},
      {"rounds", status.rounds},
      {"writes", status.writes}};
  bool healthy = status.sync != SyncState::error;
  if (channel != nullptr) {
    auto state = channel->state_json();
    healthy = healthy && state.value("healthy", false);
    out["channel"] = std::move(state);
  } else {
    out["channel"] = nullptr;
  }
  out["healthy"] = healthy;
  return out;
}

Result<std::unique_ptr<control::ControlServer>> start_control_socket(boost::asio::io_context& io,
                                                                     const AgentConfig& config,
                                                                     StatusGetter status,
                                                                     const channel::ChannelClient* channel) {
  return control::ControlServer::start(
      io, config.agent.control_socket,
      control::status_only_handler([status, channel] { return agent_status_json(status(), channel); }));
}

}  // namespace sixgate::agent
