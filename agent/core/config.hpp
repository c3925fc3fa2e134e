#pragma once
// The agent's configuration file (TOML, documented in deploy/agent.example.toml) as plain values.
// Parsing is strict: unknown keys, wrong types and bad values are errors naming the file, the key and the
// line. Router credentials are never part of this file (see RouterConfig::credentials_file).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.hpp"
#include "common/result.hpp"

namespace sixgate::agent {

struct AgentSection {
  std::string name = "sixgate";  // goes into every owner tag: sixgate:<name>:<site>:<role>
  std::string control_socket = "/run/sixgate/agent.sock";
  std::string state_dir;  // empty: keep no state on disk
};

struct RouterConfig {
  std::string url = "https://192.0.2.1";  // scheme + host[:port], without "/rest"
  std::string ca_file;                    // verify the router's certificate against this CA bundle
  std::string fingerprint_sha256;         // or pin the leaf certificate (hex, colons allowed)
  bool insecure = false;                  // or skip verification (explicit, logged loudly)
  // "user:password" on its first line; when empty, $SIXGATE_ROUTER_USER / $SIXGATE_ROUTER_PASSWORD.
  std::string credentials_file;
  std::chrono::milliseconds timeout{10000};  // per request
  int retries = 3;                           // per request, capped exponential backoff with jitter
  std::chrono::seconds poll_interval{30};    // periodic resync of the router's tables
};

struct SiteConfig {
  std::string name = "home";
  Ipv6Prefix routed_prefix;  // required: the VPS-routed prefix whose traffic is marked
};

enum class PolicyMode {
  address_list,  // rule: dst-address-list=!<address_list>, one list entry per home prefix (default)
  dst_address,   // rule: dst-address=!<prefix> as in the reference setup (one prefix only)
};

struct RulePosition {
  enum class Kind { top, bottom, before };
  Kind kind = Kind::top;
  std::string comment;  // Kind::before: our rule goes right before the rule carrying this comment
};

struct PolicyConfig {
  PolicyMode mode = PolicyMode::address_list;
  std::string chain = "prerouting";
  std::string routing_table = "extip1_rt";
  bool passthrough = false;
  RulePosition position;
  std::string address_list;  // default "sixgate-<site name>"
  std::string gateway = "fe80::1%extip1_wg";
  int distance = 20;
  bool adopt = false;  // take over untagged objects that match the desired ones exactly
  std::optional<std::string> address_list_timeout;  // RouterOS duration, e.g. "1d"; none by default
};

struct NetlinkSourceConfig {
  std::string interface;           // local interface whose addresses / RA prefixes are watched
  unsigned delegated_length = 56;  // an observed /64 maps to its covering /<delegated_length>
};

struct DhcpClientSourceConfig {
  std::string interface;                   // the router's /ipv6/dhcp-client interface
  std::chrono::seconds poll_interval{30};  // how often the router's dhcp-client is read
};

struct SourcesConfig {
  std::chrono::milliseconds debounce{500};
  std::vector<Ipv6Prefix> static_prefixes;
  std::optional<NetlinkSourceConfig> netlink;
  std::optional<DhcpClientSourceConfig> dhcp_client;
};

struct ChannelPeerConfig {
  std::string name, address, key_file;
};

struct AgentChannelConfig {
  std::vector<ChannelPeerConfig> proxies;
  int heartbeat_s = 10;
  bool use_proxy_prefixes = false;
};

struct AgentConfig {
  std::string origin;  // where it was read from, for messages
  AgentSection agent;
  RouterConfig router;
  SiteConfig site;
  PolicyConfig policy;
  SourcesConfig sources;
  AgentChannelConfig channel;
};

// Parses a whole config file. `origin` (usually the path) prefixes every error: "<origin>:<line>: <key>:
// ...".
Result<AgentConfig> parse_agent_config(std::string_view toml_text, std::string_view origin);
Result<AgentConfig> load_agent_config(const std::string& path);

}  // namespace sixgate::agent
