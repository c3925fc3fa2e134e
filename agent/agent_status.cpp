#include "agent/agent_status.hpp"

#include <nlohmann/json.hpp>

namespace sixgate::agent {
namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

nlohmann::json lifetime(const std::optional<std::chrono::seconds>& s) {
  if (!s) return "infinite";
  return s->count();
}

}  // namespace

nlohmann::json to_json(const AgentStatus& s) {
  nlohmann::json prefixes = nlohmann::json::array();
  for (const PrefixState& p : s.prefixes) {
    prefixes.push_back({{"prefix", p.prefix.to_string()},
                        {"valid_s", lifetime(p.valid_remaining)},
                        {"preferred_s", lifetime(p.preferred_remaining)},
                        {"sources", p.sources},
                        {"effective", p.effective},
                        {"retained", p.retained}});
  }
  nlohmann::json effective = nlohmann::json::array();
  for (const Ipv6Prefix& p : s.effective) effective.push_back(p.to_string());
  nlohmann::json sync = {{"state", std::string(to_string(s.sync))}, {"reason", s.sync_reason}};
  sync["last_sync"] = s.last_sync ? nlohmann::json(unix_seconds(*s.last_sync)) : nlohmann::json(nullptr);
  nlohmann::json change = nullptr;
  if (s.last_prefix_change)
    change = {{"at", unix_seconds(*s.last_prefix_change)}, {"text", s.last_prefix_change_text}};
  return {
      {"agent", s.agent_name}, {"site", s.site_name},    {"dry_run", s.dry_run},         {"sync", sync},
      {"prefixes", prefixes},  {"effective", effective}, {"last_prefix_change", change}, {"rounds", s.rounds},
      {"writes", s.writes}};
}

}  // namespace sixgate::agent
