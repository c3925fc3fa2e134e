#include "proxy/status_command.hpp"

#include "common/control/format.hpp"
#include "common/control/status_cli.hpp"

namespace sixgate::proxy {

using control::format_ago;
using control::format_bytes;
using control::format_lifetime;
using control::format_unix_ms;
using control::text_of;

namespace {
std::string count_of(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->dump() : "?";
}
// "ended since start: 12 relayed, 3 refused, 0 stopped; 1.2 MiB up, 40.1 MiB down
//    reasons: closed 12, no_sni 2, refused_address 1"
std::string render_ended(const nlohmann::json& e) {
  std::string out = "ended since start: " + count_of(e, "relayed") + " relayed, " + count_of(e, "refused") +
                    " refused, " + count_of(e, "stopped") + " stopped; " +
                    format_bytes(e.value("up_bytes", nlohmann::json())) + " up, " +
                    format_bytes(e.value("down_bytes", nlohmann::json())) + " down\n";
  std::string reasons;
  const auto by_reason = e.value("reasons", nlohmann::json::object());
  for (const auto& [reason, n] : by_reason.items())
    reasons += (reasons.empty() ? "" : ", ") + control::shorten(reason, 40) + " " + n.dump();
  if (!reasons.empty()) out += "  reasons: " + reasons + "\n";
  return out;
}

}  // namespace

std::string render_proxy_status(const nlohmann::json& status) {
  std::string out = "sixgate-proxy " + text_of(status, "version", "?") + ": " +
                    (status.value("healthy", false) ? "healthy" : "UNHEALTHY") + "\n";
  if (auto c = status.find("connections"); c != status.end() && c->is_object())
    out += "connections: " + count_of(*c, "active") + " open (max " + count_of(*c, "max") + "), " +
           count_of(status, "workers") + (status.value("workers", 0u) == 1 ? " worker\n" : " workers\n");
  if (auto e = status.find("ended"); e != status.end() && e->is_object()) out += render_ended(*e);
  if (auto d = status.find("log_dropped_bytes"); d != status.end() && d->is_number_unsigned() && *d > 0)
    out += "WARNING: " + d->dump() +
           " bytes of log lines were lost: stderr refused them (closed pipe, full disk?)\n";
  auto channel = status.find("channel");
  if (channel == status.end() || !channel->is_object()) return out + "channel: not configured\n";

  control::Table listen({"LISTEN", "STATE"});
  for (const auto& l : channel->value("listen", nlohmann::json::array()))
    listen.add(
        {text_of(l, "address"), l.value("bound", false) ? "bound" : "NOT BOUND: " + text_of(l, "error")});
  out += "\n" + listen.render();

  control::Table sites({"SITE", "HEALTH", "ROUTED PREFIX", "AGENT", "LAST SEEN", "SYNC", "LAST CHANGE"});
  std::string details;
  for (const auto& site : channel->value("sites", nlohmann::json::array())) {
    const std::string name = text_of(site, "name");
    const auto peers = site.value("peers", nlohmann::json::array());
    if (peers.empty())
      sites.add({name, text_of(site, "health"), text_of(site, "routed_prefix"), "-", "never", "-", "-"});
    for (const auto& peer : peers) {
      const auto sync = peer.value("sync", nlohmann::json::object());
      std::string sync_text = text_of(sync, "state");
      if (text_of(sync, "reason", "") != "")
        sync_text += " (" + control::shorten(text_of(sync, "reason"), 60) + ")";
      sites.add({name, peer.value("stale", false) ? "stale" : text_of(site, "health"),
                 text_of(site, "routed_prefix"), text_of(peer, "sender") + " " + text_of(peer, "address"),
                 format_ago(peer.value("last_seen_ago_ms", nlohmann::json())), sync_text,
                 format_unix_ms(peer.value("last_change_unix_ms", nlohmann::json()))});
      control::Table prefixes({"DELEGATED PREFIX", "VALID", "PREFERRED"});
      for (const auto& p : peer.value("prefixes", nlohmann::json::array()))
        prefixes.add({text_of(p, "prefix"), format_lifetime(p.value("valid_s", nlohmann::json())),
                      format_lifetime(p.value("preferred_s", nlohmann::json()))});
      details += "\n" + name + " (" + text_of(peer, "sender") + ", agent " + text_of(peer, "agent_version") +
                 "):\n" + prefixes.render("  ");
      if (text_of(sync, "reason", "") != "")
        details += "  sync " + text_of(sync, "state") + ": " + text_of(sync, "reason") + "\n";
      if (peer.value("routed_prefix_mismatch", false))
        details += "  WARNING: agent's routed prefix " + text_of(peer, "agent_routed_prefix") +
                   " differs from " + text_of(site, "routed_prefix") + "\n";
    }
  }
  out += "\n" + sites.render() + details;

  std::string drops;
  const auto counters = channel->value("counters", nlohmann::json::object());
  const auto dropped = counters.value("dropped", nlohmann::json::object());
  for (const auto& [reason, n] : dropped.items())
    if (n.is_number_unsigned() && n.get<std::uint64_t>() > 0) drops += " " + reason + "=" + n.dump();
  out += "\nmessages: accepted=" + counters.value("accepted", nlohmann::json(0)).dump() +
         (drops.empty() ? " dropped=0" : " dropped:" + drops) + "\n";
  return out;
}

int run_proxy_status_command(int argc, char** argv) {
  return control::run_status_command(
      {"sixgate-proxy", "/run/sixgate/proxy.sock", render_proxy_status, control::proxy_status_for_site}, argc,
      argv);
}

}  // namespace sixgate::proxy
