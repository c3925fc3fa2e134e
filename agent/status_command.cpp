#include "agent/status_command.hpp"

#include "common/control/format.hpp"
#include "common/control/status_cli.hpp"

namespace sixgate::agent {

using control::format_ago;
using control::format_lifetime;
using control::format_unix_ms;
using control::text_of;

std::string render_agent_status(const nlohmann::json& status) {
  std::string out = "sixgate-agent " + text_of(status, "version", "?") + " (site " + text_of(status, "site") +
                    "): " + (status.value("healthy", false) ? "healthy" : "UNHEALTHY") +
                    (status.value("dry_run", false) ? " [dry run]" : "") + "\n";

  const auto sync = status.value("sync", nlohmann::json::object());
  out += "router sync: " + text_of(sync, "state");
  if (text_of(sync, "reason", "") != "") out += " (" + text_of(sync, "reason") + ")";
  out += ", last successful sync " + format_unix_ms(sync.value("last_sync_unix_ms", nlohmann::json())) + "\n";
  const auto change = status.value("last_change", nlohmann::json::object());
  out += "last prefix change: " + format_unix_ms(change.value("unix_ms", nlohmann::json()));
  if (text_of(change, "text", "") != "") out += " " + text_of(change, "text");
  out += "\n\n";

  control::Table prefixes({"DELEGATED PREFIX", "VALID", "PREFERRED", "STATE", "SOURCES"});
  for (const auto& p : status.value("prefixes", nlohmann::json::array())) {
    std::string sources;
    for (const auto& s : p.value("sources", nlohmann::json::array()))
      if (s.is_string()) sources += (sources.empty() ? "" : ",") + s.get<std::string>();
    std::string state = p.value("effective", false) ? "effective" : "pending";
    if (p.value("retained", false)) state += ", retained";
    prefixes.add({text_of(p, "prefix"), format_lifetime(p.value("valid_s", nlohmann::json())),
                  format_lifetime(p.value("preferred_s", nlohmann::json())), state,
                  sources.empty() ? "-" : sources});
  }
  out += prefixes.render();

  auto channel = status.find("channel");
  if (channel == status.end() || !channel->is_object()) return out + "\nchannel: no proxies configured\n";
  control::Table peers(
      {"PROXY", "ADDRESS", "STATE", "LAST SEEN", "ROUTED PREFIX", "NAT46 PREFIX", "GATEWAY"});
  std::string notes;
  for (const auto& peer : channel->value("peers", nlohmann::json::array())) {
    const auto proxy = peer.value("proxy", nlohmann::json());
    const std::string name = text_of(peer, "name");
    peers.add({name, text_of(peer, "address"), text_of(peer, "state"),
               format_ago(peer.value("last_seen_ago_ms", nlohmann::json())), text_of(proxy, "routed_prefix"),
               text_of(proxy, "nat46_prefix"), text_of(proxy, "gateway")});
    for (const auto& m : peer.value("mismatches", nlohmann::json::array()))
      if (m.is_string())
        notes += "WARNING: " + name + ": " + control::shorten(m.get<std::string>(), 300) + "\n";
    if (text_of(peer, "send_error", "") != "")
      notes += name + ": last send failed: " + text_of(peer, "send_error") + "\n";
    if (!peer.value("acked", true)) notes += name + ": latest change not acknowledged yet\n";
  }
  out += "\n" + peers.render() + notes;
  return out;
}

int run_agent_status_command(int argc, char** argv) {
  // One site per agent: no --site.
  return control::run_status_command(
      {"sixgate-agent", "/run/sixgate/agent.sock", render_agent_status, /*select_site=*/{}}, argc, argv);
}

}  // namespace sixgate::agent
