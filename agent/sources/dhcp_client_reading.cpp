#include "agent/sources/dhcp_client_reading.hpp"

#include <algorithm>

#include "agent/core/ros_values.hpp"

namespace sixgate::agent {
namespace {

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string quoted(std::string_view s) {
  std::string out(1, '"');
  out.append(s.substr(0, 96));
  if (s.size() > 96) out.append("...");
  out.push_back('"');
  return out;
}

Result<std::chrono::seconds> lifetime(std::string_view text) {
  auto d = routeros::parse_duration(text);
  if (!d) return d.error();
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

std::string_view field(const RosObject& row, const std::string& key) {
  auto it = row.find(key);
  return it == row.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

Result<std::vector<DhcpPrefixEntry>> parse_dhcp_client_prefixes(std::string_view text) {
  std::vector<DhcpPrefixEntry> out;
  std::string_view rest = text;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view part = trim(rest.substr(0, comma));
    if (part.empty()) {
      if (comma != std::string_view::npos || !out.empty() || !trim(text).empty())
        return make_error("dhcp-client prefix " + quoted(text) + ": empty part");
      return out;
    }
    const std::size_t gap = part.find_first_of(" \t");
    const std::string_view head = part.substr(0, gap);
    if (head.find('/') != std::string_view::npos) {
      auto prefix = Ipv6Prefix::parse(head);
      if (!prefix) return make_error("dhcp-client prefix " + quoted(text) + ": " + prefix.error().message);
      DhcpPrefixEntry entry{*prefix, std::nullopt};
      if (gap != std::string_view::npos) {
        auto l = lifetime(trim(part.substr(gap)));
        if (!l) return make_error("dhcp-client prefix " + quoted(text) + ": " + l.error().message);
        entry.remaining_valid = *l;
      }
      out.push_back(entry);
    } else {
      if (out.empty() || out.back().remaining_valid)
        return make_error("dhcp-client prefix " + quoted(text) + ": " + quoted(part) + " follows no prefix");
      auto l = lifetime(part);
      if (!l) return make_error("dhcp-client prefix " + quoted(text) + ": " + l.error().message);
      out.back().remaining_valid = *l;
    }
    if (comma == std::string_view::npos) return out;
    rest = rest.substr(comma + 1);
  }
}

Result<DhcpClientReading> read_dhcp_client(const std::vector<RosObject>& rows, std::string_view interface,
                                           std::chrono::seconds assumed_lifetime, const std::string& source) {
  DhcpClientReading reading;
  reading.state = "absent";
  std::vector<std::string> states;
  for (const auto& row : rows) {
    if (field(row, "interface") != interface) continue;
    if (field(row, "disabled") == "true" || field(row, "disabled") == "yes") {
      states.emplace_back("disabled");
      continue;
    }
    const std::string status(field(row, "status"));
    states.push_back(status.empty() ? "unknown" : status);
    if (status != "bound" && status != "renewing" && status != "rebinding") continue;

    auto entries = parse_dhcp_client_prefixes(field(row, "prefix"));
    if (!entries) return entries.error();
    std::optional<std::chrono::seconds> expires;
    if (auto text = field(row, "expires-after"); !text.empty()) {
      auto l = lifetime(text);
      if (!l) return make_error("dhcp-client expires-after " + quoted(text) + ": " + l.error().message);
      expires = *l;
    }
    for (const auto& e : *entries) {
      const auto valid = e.remaining_valid.value_or(expires.value_or(assumed_lifetime));
      if (valid <= std::chrono::seconds(0)) continue;
      reading.observations.push_back({e.prefix, valid, valid, source});
    }
  }
  if (!states.empty()) {
    reading.state.clear();
    for (const auto& s : states) reading.state += (reading.state.empty() ? "" : ",") + s;
  }
  // Sorted by prefix; a prefix named twice keeps its longest lifetime.
  auto& obs = reading.observations;
  std::sort(obs.begin(), obs.end(), [](const auto& a, const auto& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.valid_lifetime > b.valid_lifetime;
  });
  obs.erase(
      std::unique(obs.begin(), obs.end(), [](const auto& a, const auto& b) { return a.prefix == b.prefix; }),
      obs.end());
  return reading;
}

}  // namespace sixgate::agent
