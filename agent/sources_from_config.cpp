#include "agent/sources_from_config.hpp"

#include "agent/core/desired_state.hpp"

namespace sixgate::agent {

std::vector<std::unique_ptr<PrefixSource>> make_sources(const AgentConfig& config, RouterApi& router) {
  std::vector<std::unique_ptr<PrefixSource>> out;
  if (!config.sources.static_prefixes.empty())
    out.push_back(make_static_source(config.sources.static_prefixes));
  if (config.sources.netlink) {
    NetlinkSourceOptions o;
    o.interface = config.sources.netlink->interface;
    o.delegated_length = config.sources.netlink->delegated_length;
    out.push_back(make_netlink_source(o));
  }
  if (config.sources.dhcp_client) {
    DhcpClientSourceOptions o;
    o.interface = config.sources.dhcp_client->interface;
    o.poll_interval = config.sources.dhcp_client->poll_interval;
    out.push_back(make_dhcp_client_source(o, [&router] { return router.list(menu::dhcp_client); }));
  }
  return out;
}

}  // namespace sixgate::agent
