#include "agent/core/config.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <string>

using namespace sixgate;
using namespace sixgate::agent;

namespace {

const char* minimal = R"(
[site]
routed_prefix = "2001:db8:1:2:1::/80"
)";

const char* full = R"(
[agent]
name = "cr1"
control_socket = "/tmp/agent.sock"
state_dir = "/var/lib/sixgate"

[router]
url = "https://192.0.2.1:8443"
fingerprint_sha256 = "AB:cd:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd"
credentials_file = "/etc/sixgate/router.cred"
timeout_ms = 5000
retries = 2
poll_interval_s = 15

[site]
name = "lab"
routed_prefix = "2001:db8:1:2:1::/80"

[policy]
mode = "dst-address"
chain = "prerouting"
routing_table = "vps_rt"
passthrough = true
position = "before:my marker"
address_list = "homes"
gateway = "fe80::1%wg-vps"
distance = 30
adopt = true
address_list_timeout = "1d"

[sources]
debounce_ms = 500
static = ["fd00::/8", "2001:db8:99::/48"]
[sources.netlink]
interface = "eth0"
delegated_length = 60
[sources.dhcp_client]
interface = "ether1"
poll_interval_s = 10

[channel]
heartbeat_s = 5
use_proxy_prefixes = true
[[channel.proxy]]
name = "vps1"
address = "[fe80::1%wg0]:7443"
key_file = "/etc/sixgate/vps1.key"
)";

}  // namespace

TEST_CASE("config: minimal file gets the documented defaults") {
  auto c = parse_agent_config(minimal, "agent.toml");
  REQUIRE(c.ok());
  CHECK(c->agent.name == "sixgate");
  CHECK(c->agent.control_socket == "/run/sixgate/agent.sock");
  CHECK(c->router.url == "https://192.0.2.1");
  CHECK_FALSE(c->router.insecure);
  CHECK(c->router.poll_interval == std::chrono::seconds(30));
  CHECK(c->site.name == "home");
  CHECK(c->site.routed_prefix.to_string() == "2001:db8:1:2:1::/80");
  CHECK(c->policy.mode == PolicyMode::address_list);
  CHECK(c->policy.chain == "prerouting");
  CHECK(c->policy.routing_table == "extip1_rt");
  CHECK_FALSE(c->policy.passthrough);
  CHECK(c->policy.position.kind == RulePosition::Kind::top);
  CHECK(c->policy.address_list == "sixgate-home");
  CHECK(c->policy.gateway == "fe80::1%extip1_wg");
  CHECK(c->policy.distance == 20);
  CHECK_FALSE(c->policy.adopt);
  CHECK_FALSE(c->policy.address_list_timeout.has_value());
  CHECK(c->sources.debounce == std::chrono::milliseconds(500));
  CHECK(c->sources.static_prefixes.empty());
  CHECK_FALSE(c->sources.netlink.has_value());
  CHECK_FALSE(c->sources.dhcp_client.has_value());
  CHECK(c->channel.proxies.empty());
  CHECK(c->channel.heartbeat_s == 10);
}

TEST_CASE("config: every key of a full file is read") {
  auto c = parse_agent_config(full, "agent.toml");
  REQUIRE(c.ok());
  CHECK(c->agent.name == "cr1");
  CHECK(c->agent.state_dir == "/var/lib/sixgate");
  CHECK(c->router.url == "https://192.0.2.1:8443");
  CHECK(c->router.credentials_file == "/etc/sixgate/router.cred");
  CHECK(c->router.timeout == std::chrono::milliseconds(5000));
  CHECK(c->router.retries == 2);
  CHECK(c->router.poll_interval == std::chrono::seconds(15));
  CHECK(c->site.name == "lab");
  CHECK(c->policy.mode == PolicyMode::dst_address);
  CHECK(c->policy.routing_table == "vps_rt");
  CHECK(c->policy.passthrough);
  CHECK(c->policy.position.kind == RulePosition::Kind::before);
  CHECK(c->policy.position.comment == "my marker");
  CHECK(c->policy.address_list == "homes");
  CHECK(c->policy.gateway == "fe80::1%wg-vps");
  CHECK(c->policy.distance == 30);
  CHECK(c->policy.adopt);
  CHECK(c->policy.address_list_timeout == std::optional<std::string>("1d"));
  CHECK(c->sources.debounce == std::chrono::milliseconds(500));
  REQUIRE(c->sources.static_prefixes.size() == 2);
  CHECK(c->sources.static_prefixes[1].to_string() == "2001:db8:99::/48");
  REQUIRE(c->sources.netlink.has_value());
  CHECK(c->sources.netlink->interface == "eth0");
  CHECK(c->sources.netlink->delegated_length == 60);
  REQUIRE(c->sources.dhcp_client.has_value());
  CHECK(c->sources.dhcp_client->interface == "ether1");
  CHECK(c->sources.dhcp_client->poll_interval == std::chrono::seconds(10));
  CHECK(c->channel.heartbeat_s == 5);
  CHECK(c->channel.use_proxy_prefixes);
  REQUIRE(c->channel.proxies.size() == 1);
  CHECK(c->channel.proxies[0].name == "vps1");
  CHECK(c->channel.proxies[0].address == "[fe80::1%wg0]:7443");
  CHECK(c->channel.proxies[0].key_file == "/etc/sixgate/vps1.key");
}

TEST_CASE("config: errors name the file, the key and the line") {
  struct Case {
    const char* name;
    std::string text;
    std::string expected;  // substring of the message
  };
  const std::string site = "[site]\nrouted_prefix = \"2001:db8:1:2:1::/80\"\n";
  // clang-format off
  const Case cases[] = {
      {"no site", "[agent]\nname = \"x\"\n", "site.routed_prefix: missing"},
      {"routed prefix missing", "[site]\nname = \"x\"\n", "f.toml:1: site.routed_prefix: missing"},
      {"bad routed prefix", "[site]\nrouted_prefix = \"2001:db8::zz/80\"\n", "f.toml:2: site.routed_prefix"},
      {"unknown top-level table", site + "[polcy]\nmode = \"x\"\n", "f.toml:3: polcy: unknown key"},
      {"unknown key in section", site + "[policy]\nchian = \"prerouting\"\n", "f.toml:4: policy.chian: unknown key"},
      {"wrong type", site + "[policy]\ndistance = \"20\"\n", "f.toml:4: policy.distance: expected an integer"},
      {"out of range", site + "[policy]\ndistance = 300\n", "f.toml:4: policy.distance: must be between 1 and 255"},
      {"bad mode", site + "[policy]\nmode = \"list\"\n", "f.toml:4: policy.mode: expected \"address-list\""},
      {"bad position", site + "[policy]\nposition = \"middle\"\n", "f.toml:4: policy.position"},
      {"main table", site + "[policy]\nrouting_table = \"main\"\n", "policy.routing_table: must not be \"main\""},
      {"bad gateway", site + "[policy]\ngateway = \"fe80::zz%wg\"\n", "f.toml:4: policy.gateway"},
      {"bad timeout", site + "[policy]\naddress_list_timeout = \"one day\"\n", "policy.address_list_timeout"},
      {"timeout below resync", site + "[policy]\naddress_list_timeout = \"1m\"\n", "f.toml:4: policy.address_list_timeout: must be at least 3 x"},
      {"name with colon", "[agent]\nname = \"a:b\"\n" + site, "f.toml:2: agent.name"},
      {"password in file", site + "[router]\npassword = \"secret\"\n", "router.password: credentials never"},
      {"user in file", site + "[router]\nuser = \"admin\"\n", "router.user: credentials never"},
      {"url with rest", site + "[router]\nurl = \"https://r/rest\"\n", "router.url: give the router's base URL"},
      {"url with rest/", site + "[router]\nurl = \"https://r:8443/rest/\"\n", "router.url: give the router's base URL"},
      {"url with userinfo", site + "[router]\nurl = \"https://admin:hunter2@r\"\n", "f.toml:4: router.url: must not contain user:password@"},
      {"url with user only", site + "[router]\nurl = \"https://admin@r/\"\n", "router.url: must not contain user:password@"},
      {"userinfo before scheme check", site + "[router]\nurl = \"ftp://admin:hunter2@r\"\n", "router.url: must not contain user:password@"},
      {"url without host", site + "[router]\nurl = \"https:///x\"\n", "router.url: names no host"},
      {"url scheme", site + "[router]\nurl = \"ftp://r\"\n", "f.toml:4: router.url: must start with https://"},
      {"bad fingerprint", site + "[router]\nfingerprint_sha256 = \"abc\"\n", "router.fingerprint_sha256: expected 64"},
      {"insecure and pin", site + "[router]\ninsecure = true\nca_file = \"/ca.pem\"\n", "router.insecure: contradicts"},
      {"bad static", site + "[sources]\nstatic = [\"fd00::/8\", \"nope\"]\n", "f.toml:4: sources.static"},
      {"static not string", site + "[sources]\nstatic = [42]\n", "sources.static: expected prefix strings"},
      {"netlink without interface", site + "[sources.netlink]\ndelegated_length = 56\n", "sources.netlink.interface: missing"},
      {"delegated length", site + "[sources.netlink]\ninterface = \"e\"\ndelegated_length = 65\n", "f.toml:5: sources.netlink.delegated_length"},
      {"dhcp unknown key", site + "[sources.dhcp_client]\ninterface = \"e\"\npoll = 3\n", "f.toml:5: sources.dhcp_client.poll: unknown key"},
      {"proxy missing key", site + "[[channel.proxy]]\nname = \"v\"\naddress = \"[::1]:1\"\n", "channel.proxy.key_file: missing"},
      {"proxy unknown key", site + "[[channel.proxy]]\nname = \"v\"\naddress = \"a\"\nkey_file = \"k\"\nkey = \"x\"\n", "f.toml:7: channel.proxy.key: unknown key"},
      {"toml syntax", site + "[policy\n", "f.toml:3:"},
      {"section not a table", "agent = 1\n" + site, "f.toml:1: agent: expected a table"},
      {"empty control socket", "[agent]\ncontrol_socket = \"\"\n" + site, "agent.control_socket: must not be empty"},
      {"bad chain", site + "[policy]\nchain = \"pre routing\"\n", "f.toml:4: policy.chain"},
      {"bad table name", site + "[policy]\nrouting_table = \"a/b\"\n", "f.toml:4: policy.routing_table"},
      {"bad list name", site + "[policy]\naddress_list = \"a b\"\n", "f.toml:4: policy.address_list"},
      {"bad gateway interface", site + "[policy]\ngateway = \"wg 0\"\n", "f.toml:4: policy.gateway"},
      {"adopt not bool", site + "[policy]\nadopt = \"yes\"\n", "f.toml:4: policy.adopt: expected true or false"},
      {"retries range", site + "[router]\nretries = 11\n", "f.toml:4: router.retries: must be between 0 and 10"},
      {"timeout range", site + "[router]\ntimeout_ms = 5\n", "router.timeout_ms: must be between"},
      {"poll range", site + "[router]\npoll_interval_s = 0\n", "router.poll_interval_s: must be between"},
      {"debounce range", site + "[sources]\ndebounce_ms = -1\n", "sources.debounce_ms: must be between"},
      {"static not array", site + "[sources]\nstatic = \"fd00::/8\"\n", "sources.static: expected an array"},
      {"heartbeat range", site + "[channel]\nheartbeat_s = 0\n", "channel.heartbeat_s: must be between"},
      {"use_proxy_prefixes type", site + "[channel]\nuse_proxy_prefixes = 1\n", "channel.use_proxy_prefixes: expected true"},
      {"proxy not tables", site + "[channel]\nproxy = [1]\n", "channel.proxy: expected [[channel.proxy]] tables"},
      {"duplicate key", site + "[policy]\nchain = \"a\"\nchain = \"b\"\n", "f.toml:5:"},
  };
  // clang-format on
  for (const Case& c : cases) {
    SECTION(c.name) {
      auto r = parse_agent_config(c.text, "f.toml");
      REQUIRE_FALSE(r.ok());
      INFO(r.error().message);
      CHECK(r.error().message.find(c.expected) != std::string::npos);
      CHECK(r.error().message.find("hunter2") == std::string::npos);
    }
  }
}

TEST_CASE("agent config: router.url checks only the path for /rest") {
  const std::string site = "[site]\nrouted_prefix = \"2001:db8:1:2:1::/80\"\n";
  for (const char* url : {"https://rest-gw.lan", "https://rest.example:8443/", "https://r/restful",
                          "http://[2001:db8::1]:80"}) {
    SECTION(url) {
      auto r = parse_agent_config(site + "[router]\nurl = \"" + url + "\"\n", "f.toml");
      INFO((r.ok() ? std::string("ok") : r.error().message));
      REQUIRE(r.ok());
      CHECK(r->router.url == url);
    }
  }
}

TEST_CASE("config: load_agent_config reads a file and names it in errors") {
  const std::string path = "/tmp/sixgate-acore-config-test-" + std::to_string(getpid()) + ".toml";
  {
    std::ofstream out(path);
    out << minimal;
  }
  auto ok = load_agent_config(path);
  REQUIRE(ok.ok());
  CHECK(ok->origin == path);
  {
    std::ofstream out(path);
    out << minimal << "bogus = 1\n";
  }
  auto bad = load_agent_config(path);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.rfind(path + ":", 0) == 0);
  std::remove(path.c_str());
  auto missing = load_agent_config("/nonexistent/sixgate.toml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/nonexistent/sixgate.toml") != std::string::npos);
}

TEST_CASE("config: the example config in deploy/ parses") {
  std::string here = __FILE__;  // <source>/tests/agent/core/config_test.cpp
  std::string root = here.substr(0, here.rfind("/tests/agent/core/"));
  auto c = load_agent_config(root + "/deploy/agent.example.toml");
  if (!c.ok()) FAIL(c.error().message);
}
