#include "agent/core/config.hpp"

#include "agent/core/ros_values.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace sixgate::agent {
namespace {

// Thrown inside this file only; parse_agent_config turns it into an Error.
struct ConfigError {
  std::string message;
};

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.append(1, '"').append(s).append(1, '"');
  return out;
}

// One TOML table being read: every key must be consumed, so leftovers are reported as unknown.
class Section {
 public:
  Section(std::string_view origin, std::string path, const toml::table& table)
      : origin_(origin), path_(std::move(path)), table_(table) {}

  [[noreturn]] void fail_at(const toml::source_region& where, std::string_view key,
                            std::string_view what) const {
    std::ostringstream out;
    out << origin_;
    if (where.begin.line > 0) out << ":" << where.begin.line;
    out << ": " << full(key) << ": " << what;
    throw ConfigError{out.str()};
  }
  [[noreturn]] void fail(std::string_view key, std::string_view what) const {
    const toml::node* node = table_.get(key);
    fail_at(node ? node->source() : table_.source(), key, what);
  }

  std::string full(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const toml::node* take(std::string_view key) {
    used_.insert(std::string(key));
    return table_.get(key);
  }

  std::optional<std::string> string(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(key, "expected a string");
    return std::string(*n->value<std::string_view>());
  }
  void string(std::string_view key, std::string& out) {
    if (auto v = string(key)) out = *v;
  }
  std::string required_string(std::string_view key) {
    auto v = string(key);
    if (!v) fail(key, "missing (required)");
    if (v->empty()) fail(key, "must not be empty");
    return *v;
  }

  std::optional<bool> boolean(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(key, "expected true or false");
    return *n->value<bool>();
  }
  void boolean(std::string_view key, bool& out) {
    if (auto v = boolean(key)) out = *v;
  }

  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(key, "expected an integer");
    std::int64_t v = *n->value<std::int64_t>();
    if (v < min || v > max)
      fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                    std::to_string(v));
    return v;
  }

  std::optional<Section> table(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_table()) fail(key, "expected a table ([" + full(key) + "])");
    return Section(origin_, full(key), *n->as_table());
  }

  const toml::array* array(std::string_view key) {
    const toml::node* n = take(key);
    if (!n) return nullptr;
    if (!n->is_array()) fail(key, "expected an array");
    return n->as_array();
  }

  void reject_unknown() const {
    for (const auto& [key, node] : table_) {
      if (used_.count(std::string(key.str())) == 0) fail_at(node.source(), key.str(), "unknown key");
    }
  }

  std::string_view origin() const { return origin_; }

 private:
  std::string_view origin_;
  std::string path_;
  const toml::table& table_;
  std::set<std::string> used_;
};

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string hex_only(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != ':') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

void read_agent(Section& s, AgentSection& a) {
  if (auto name = s.string("name")) {
    if (!is_name(*name))
      s.fail("name", "must be 1-64 characters of A-Z a-z 0-9 . _ - (it goes into comment tags)");
    a.name = *name;
  }
  s.string("control_socket", a.control_socket);
  if (a.control_socket.empty()) s.fail("control_socket", "must not be empty");
  s.string("state_dir", a.state_dir);
  s.reject_unknown();
}

// "scheme://authority/path?query#fragment" split just enough to check a base URL.
struct UrlParts {
  std::string_view authority;  // "user:pass@host:port" as written
  std::string_view path;       // "" or from the first "/" on, without query or fragment
};

UrlParts split_url(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  std::size_t authority_end = rest.find_first_of("/?#");
  UrlParts parts{rest.substr(0, authority_end), {}};
  if (authority_end != std::string_view::npos && rest[authority_end] == '/') {
    std::string_view path = rest.substr(authority_end);
    parts.path = path.substr(0, path.find_first_of("?#"));
  }
  return parts;
}

bool has_path_segment(std::string_view path, std::string_view segment) {
  while (!path.empty()) {
    path.remove_prefix(1);  // the "/"
    std::string_view current = path.substr(0, path.find('/'));
    if (current == segment) return true;
    path.remove_prefix(current.size());
  }
  return false;
}

void check_router_url(Section& s, const std::string& url) {
  const UrlParts parts = split_url(url);
  // Checked first, and the URL is never echoed: it would carry the password into the error and the logs.
  if (parts.authority.find('@') != std::string_view::npos)
    s.fail("url",
           "must not contain user:password@ (credentials never go into the config: use credentials_file or "
           "$SIXGATE_ROUTER_USER / $SIXGATE_ROUTER_PASSWORD)");
  if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
    s.fail("url", "must start with https:// (or http://), got " + quoted(url));
  if (parts.authority.empty()) s.fail("url", "names no host, got " + quoted(url));
  if (has_path_segment(parts.path, "rest")) s.fail("url", "give the router's base URL without /rest");
}

void read_router(Section& s, RouterConfig& r) {
  s.string("url", r.url);
  check_router_url(s, r.url);
  s.string("ca_file", r.ca_file);
  if (auto fp = s.string("fingerprint_sha256")) {
    std::string hex = hex_only(*fp);
    if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(),
                                         [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      s.fail("fingerprint_sha256", "expected 64 hex digits (colons allowed)");
    r.fingerprint_sha256 = *fp;
  }
  s.boolean("insecure", r.insecure);
  if (r.insecure && (!r.fingerprint_sha256.empty() || !r.ca_file.empty()))
    s.fail("insecure", "contradicts ca_file / fingerprint_sha256: choose one way to trust the router");
  if (auto user = s.take("user"); user)
    s.fail("user", "credentials never go into the config: use credentials_file or $SIXGATE_ROUTER_USER");
  if (auto pw = s.take("password"); pw)
    s.fail("password",
           "credentials never go into the config: use credentials_file or $SIXGATE_ROUTER_PASSWORD");
  s.string("credentials_file", r.credentials_file);
  if (auto v = s.integer("timeout_ms", 100, 600000)) r.timeout = std::chrono::milliseconds(*v);
  if (auto v = s.integer("retries", 0, 10)) r.retries = static_cast<int>(*v);
  if (auto v = s.integer("poll_interval_s", 1, 86400)) r.poll_interval = std::chrono::seconds(*v);
  s.reject_unknown();
}

void read_site(Section& s, SiteConfig& site) {
  if (auto name = s.string("name")) {
    if (!is_name(*name))
      s.fail("name", "must be 1-64 characters of A-Z a-z 0-9 . _ - (it goes into comment tags)");
    site.name = *name;
  }
  std::string routed = s.required_string("routed_prefix");
  auto p = Ipv6Prefix::parse(routed);
  if (!p) s.fail("routed_prefix", p.error().message);
  site.routed_prefix = *p;
  s.reject_unknown();
}

RulePosition parse_position(Section& s, std::string_view text) {
  if (text == "top") return {RulePosition::Kind::top, {}};
  if (text == "bottom") return {RulePosition::Kind::bottom, {}};
  constexpr std::string_view before = "before:";
  if (text.substr(0, before.size()) == before && text.size() > before.size())
    return {RulePosition::Kind::before, std::string(text.substr(before.size()))};
  s.fail("position", "expected \"top\", \"bottom\" or \"before:<comment of a rule>\", got " + quoted(text));
}

void read_policy(Section& s, PolicyConfig& p, std::chrono::seconds poll_interval) {
  if (auto mode = s.string("mode")) {
    if (*mode == "address-list")
      p.mode = PolicyMode::address_list;
    else if (*mode == "dst-address")
      p.mode = PolicyMode::dst_address;
    else
      s.fail("mode", "expected \"address-list\" or \"dst-address\", got " + quoted(*mode));
  }
  s.string("chain", p.chain);
  if (!is_name(p.chain)) s.fail("chain", "must be a chain name such as \"prerouting\"");
  s.string("routing_table", p.routing_table);
  if (!is_name(p.routing_table))
    s.fail("routing_table", "must be a routing table name such as \"extip1_rt\"");
  if (p.routing_table == "main") s.fail("routing_table", "must not be \"main\": the agent owns this table");
  s.boolean("passthrough", p.passthrough);
  if (auto pos = s.string("position")) p.position = parse_position(s, *pos);
  s.string("address_list", p.address_list);
  if (!p.address_list.empty() && !is_name(p.address_list))
    s.fail("address_list", "must be 1-64 characters of A-Z a-z 0-9 . _ -");
  s.string("gateway", p.gateway);
  if (p.gateway.empty()) s.fail("gateway", "must not be empty");
  if (p.gateway.find(':') != std::string::npos) {
    auto g = ScopedIpv6Address::parse(p.gateway);
    if (!g) s.fail("gateway", g.error().message);
  } else if (!is_name(p.gateway)) {
    s.fail("gateway", "expected an IPv6 address (optionally %interface) or an interface name");
  }
  if (auto v = s.integer("distance", 1, 255)) p.distance = static_cast<int>(*v);
  s.boolean("adopt", p.adopt);
  if (auto t = s.string("address_list_timeout")) {
    auto d = routeros::parse_duration(*t);
    if (!d.ok() || *d <= std::chrono::seconds(0))
      s.fail("address_list_timeout", "expected a RouterOS duration such as \"1d\" or \"12h30m\"");
    else if (*d < 3 * poll_interval)
      s.fail("address_list_timeout", "must be at least 3 x router.poll_interval_s (" +
                                         std::to_string(poll_interval.count()) +
                                         " s), so entries are refreshed before they run out");
    p.address_list_timeout = *t;
  }
  s.reject_unknown();
}

void read_sources(Section& s, SourcesConfig& src) {
  if (auto v = s.integer("debounce_ms", 0, 600000)) src.debounce = std::chrono::milliseconds(*v);
  if (const toml::array* list = s.array("static")) {
    for (const toml::node& item : *list) {
      auto text = item.value<std::string_view>();
      if (!text) s.fail_at(item.source(), "static", "expected prefix strings such as \"fd00::/8\"");
      auto p = Ipv6Prefix::parse(*text);
      if (!p) s.fail_at(item.source(), "static", p.error().message);
      src.static_prefixes.push_back(*p);
    }
  }
  if (auto nl = s.table("netlink")) {
    NetlinkSourceConfig n;
    n.interface = nl->required_string("interface");
    if (auto v = nl->integer("delegated_length", 1, 64)) n.delegated_length = static_cast<unsigned>(*v);
    nl->reject_unknown();
    src.netlink = n;
  }
  if (auto dc = s.table("dhcp_client")) {
    DhcpClientSourceConfig d;
    d.interface = dc->required_string("interface");
    if (auto v = dc->integer("poll_interval_s", 1, 86400)) d.poll_interval = std::chrono::seconds(*v);
    dc->reject_unknown();
    src.dhcp_client = d;
  }
  s.reject_unknown();
}

void read_channel(Section& s, AgentChannelConfig& ch) {
  if (const toml::array* proxies = s.array("proxy")) {
    for (const toml::node& item : *proxies) {
      const toml::table* t = item.as_table();
      if (!t) s.fail_at(item.source(), "proxy", "expected [[channel.proxy]] tables");
      Section p(s.origin(), s.full("proxy"), *t);
      ChannelPeerConfig peer;
      peer.name = p.required_string("name");
      peer.address = p.required_string("address");
      peer.key_file = p.required_string("key_file");
      p.reject_unknown();
      ch.proxies.push_back(peer);
    }
  }
  if (auto v = s.integer("heartbeat_s", 1, 3600)) ch.heartbeat_s = static_cast<int>(*v);
  s.boolean("use_proxy_prefixes", ch.use_proxy_prefixes);
  s.reject_unknown();
}

AgentConfig read_config(const toml::table& root, std::string_view origin) {
  AgentConfig c;
  c.origin = std::string(origin);
  Section top(origin, "", root);
  if (auto s = top.table("agent")) read_agent(*s, c.agent);
  if (auto s = top.table("router")) read_router(*s, c.router);
  auto site = top.table("site");
  if (!site)
    throw ConfigError{std::string(origin) + ": site.routed_prefix: missing (required), add a [site] table"};
  read_site(*site, c.site);
  if (auto s = top.table("policy")) read_policy(*s, c.policy, c.router.poll_interval);
  if (c.policy.address_list.empty()) c.policy.address_list = "sixgate-" + c.site.name;
  if (auto s = top.table("sources")) read_sources(*s, c.sources);
  if (auto s = top.table("channel")) read_channel(*s, c.channel);
  top.reject_unknown();
  return c;
}

}  // namespace

Result<AgentConfig> parse_agent_config(std::string_view toml_text, std::string_view origin) {
  try {
    toml::table root = toml::parse(toml_text, origin);
    return read_config(root, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return make_error(out.str());
  } catch (const ConfigError& e) {
    return make_error(e.message);
  }
}

Result<AgentConfig> load_agent_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot read the config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(path + ": read error");
  return parse_agent_config(text.str(), path);
}

}  // namespace sixgate::agent
