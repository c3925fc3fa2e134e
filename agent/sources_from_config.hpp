#pragma once
// The prefix sources a config asks for: static, netlink, the router's dhcp-client.
#include <memory>
#include <vector>

#include "agent/core/config.hpp"
#include "agent/router_api.hpp"
#include "agent/sources/source.hpp"

namespace sixgate::agent {

// `router` (used by the dhcp-client source from its own thread) must outlive the sources and be safe to call
// concurrently (the REST client serialises its requests).
std::vector<std::unique_ptr<PrefixSource>> make_sources(const AgentConfig& config, RouterApi& router);

}  // namespace sixgate::agent
