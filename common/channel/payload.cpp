#include "common/channel/payload.hpp"

namespace sixgate::channel {
namespace {

using nlohmann::json;

constexpr std::int64_t kMaxSeconds = std::int64_t{1} << 40;

Result<std::string> text_field(const json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return make_error(std::string("missing \"") + key + "\"");
    return std::string();
  }
  if (!it->is_string()) return make_error(std::string("\"") + key + "\" is not a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxTextField) return make_error(std::string("\"") + key + "\" is too long");
  return s;
}

Result<std::optional<std::int64_t>> optional_int(const json& j, const char* key, std::int64_t lo,
                                                 std::int64_t hi) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) return make_error(std::string("\"") + key + "\" is not an integer");
  std::int64_t v = 0;
  if (it->is_number_unsigned()) {
    auto u = it->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(hi)) return make_error(std::string("\"") + key + "\" out of range");
    v = static_cast<std::int64_t>(u);
  } else {
    v = it->get<std::int64_t>();
  }
  if (v < lo || v > hi) return make_error(std::string("\"") + key + "\" out of range");
  return std::optional<std::int64_t>(v);
}

Result<std::optional<Ipv6Prefix>> optional_prefix(const json& j, const char* key) {
  auto text = text_field(j, key, false);
  if (!text) return text.error();
  if (text->empty()) return std::optional<Ipv6Prefix>();
  auto p = Ipv6Prefix::parse(*text);
  if (!p) return make_error(std::string("\"") + key + "\": " + p.error().message);
  return std::optional<Ipv6Prefix>(*p);
}

json optional_to_json(const std::optional<std::int64_t>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

std::string_view to_string(SyncState state) {
  switch (state) {
    case SyncState::starting:
      return "starting";
    case SyncState::in_sync:
      return "in_sync";
    case SyncState::pending:
      return "pending";
    case SyncState::error:
      return "error";
  }
  return "unknown";
}

std::optional<SyncState> parse_sync_state(std::string_view text) {
  for (auto s : {SyncState::starting, SyncState::in_sync, SyncState::pending, SyncState::error})
    if (to_string(s) == text) return s;
  return std::nullopt;
}

json to_json(const AgentReport& r) {
  json prefixes = json::array();
  for (const auto& p : r.prefixes)
    prefixes.push_back({{"prefix", p.prefix.to_string()},
                        {"valid_s", optional_to_json(p.valid_s)},
                        {"preferred_s", optional_to_json(p.preferred_s)}});
  json j = {{"agent_version", r.agent_version},
            {"heartbeat_ms", r.heartbeat_ms},
            {"prefixes", prefixes},
            {"sync", {{"state", to_string(r.sync)}, {"reason", r.sync_reason}}},
            {"last_change_ms", optional_to_json(r.last_change_ms)}};
  if (r.routed_prefix) j["routed_prefix"] = r.routed_prefix->to_string();
  return j;
}

json to_json(const ProxyInfo& i) {
  json j = {{"proxy_version", i.proxy_version},
            {"routed_prefix", i.routed_prefix.to_string()},
            {"gateway", i.gateway},
            {"ack_counter", i.ack_counter}};
  j["nat46_prefix"] = i.nat46_prefix ? json(i.nat46_prefix->to_string()) : json(nullptr);
  return j;
}

Result<AgentReport> agent_report_from_json(const json& j) {
  if (!j.is_object()) return make_error("agent_report: not a JSON object");
  AgentReport r;
  auto version = text_field(j, "agent_version", true);
  if (!version) return make_error("agent_report: " + version.error().message);
  r.agent_version = *version;
  auto hb = optional_int(j, "heartbeat_ms", 100, 3600 * 1000);
  if (!hb) return make_error("agent_report: " + hb.error().message);
  if (!*hb) return make_error("agent_report: missing \"heartbeat_ms\"");
  r.heartbeat_ms = **hb;

  auto prefixes = j.find("prefixes");
  if (prefixes == j.end() || !prefixes->is_array())
    return make_error("agent_report: \"prefixes\" is not an array");
  if (prefixes->size() > kMaxPrefixes) return make_error("agent_report: too many prefixes");
  for (const auto& p : *prefixes) {
    if (!p.is_object()) return make_error("agent_report: a prefix entry is not an object");
    auto prefix = optional_prefix(p, "prefix");
    if (!prefix) return make_error("agent_report: " + prefix.error().message);
    if (!*prefix) return make_error("agent_report: a prefix entry lacks \"prefix\"");
    auto valid = optional_int(p, "valid_s", 0, kMaxSeconds);
    if (!valid) return make_error("agent_report: " + valid.error().message);
    auto preferred = optional_int(p, "preferred_s", 0, kMaxSeconds);
    if (!preferred) return make_error("agent_report: " + preferred.error().message);
    r.prefixes.push_back(ReportedPrefix{**prefix, *valid, *preferred});
  }

  auto sync = j.find("sync");
  if (sync == j.end() || !sync->is_object()) return make_error("agent_report: \"sync\" is not an object");
  auto state = text_field(*sync, "state", true);
  if (!state) return make_error("agent_report: sync " + state.error().message);
  auto parsed_state = parse_sync_state(*state);
  if (!parsed_state) return make_error("agent_report: unknown sync state");
  r.sync = *parsed_state;
  auto reason = text_field(*sync, "reason", false);
  if (!reason) return make_error("agent_report: sync " + reason.error().message);
  r.sync_reason = *reason;

  auto last_change = optional_int(j, "last_change_ms", 0, std::int64_t{1} << 50);
  if (!last_change) return make_error("agent_report: " + last_change.error().message);
  r.last_change_ms = *last_change;
  auto routed = optional_prefix(j, "routed_prefix");
  if (!routed) return make_error("agent_report: " + routed.error().message);
  r.routed_prefix = *routed;
  return r;
}

Result<ProxyInfo> proxy_info_from_json(const json& j) {
  if (!j.is_object()) return make_error("proxy_info: not a JSON object");
  ProxyInfo i;
  auto version = text_field(j, "proxy_version", true);
  if (!version) return make_error("proxy_info: " + version.error().message);
  i.proxy_version = *version;
  auto routed = optional_prefix(j, "routed_prefix");
  if (!routed) return make_error("proxy_info: " + routed.error().message);
  if (!*routed) return make_error("proxy_info: missing \"routed_prefix\"");
  i.routed_prefix = **routed;
  auto nat46 = optional_prefix(j, "nat46_prefix");
  if (!nat46) return make_error("proxy_info: " + nat46.error().message);
  i.nat46_prefix = *nat46;
  auto gateway = text_field(j, "gateway", false);
  if (!gateway) return make_error("proxy_info: " + gateway.error().message);
  if (!gateway->empty()) {
    auto parsed = ScopedIpv6Address::parse(*gateway);
    if (!parsed) return make_error("proxy_info: \"gateway\": " + parsed.error().message);
  }
  i.gateway = *gateway;
  auto ack = j.find("ack_counter");
  if (ack != j.end()) {
    if (!ack->is_number_unsigned())
      return make_error("proxy_info: \"ack_counter\" is not an unsigned integer");
    i.ack_counter = ack->get<std::uint64_t>();
  }
  return i;
}

Result<nlohmann::json> parse_payload_text(std::string_view text) {
  // Nesting deeper than any valid payload needs is refused before parsing (bounded work, bounded stack).
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > 8) return make_error("payload: nested too deeply");
    } else if (c == '}' || c == ']')
      --depth;
  }
  auto j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("payload: not valid JSON");
  return j;
}

}  // namespace sixgate::channel
