#include "agent/state_file.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace sixgate::agent {
namespace {

using SystemClock = std::chrono::system_clock;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(SystemClock::now().time_since_epoch()).count();
}

}  // namespace

std::string prefix_state_path(const std::string& state_dir) {
  return state_dir + "/prefixes.json";
}

Result<std::vector<PrefixObservation>> load_remembered_prefixes(const std::string& state_dir) {
  const std::string path = prefix_state_path(state_dir);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::vector<PrefixObservation>{};
    return make_error(path + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::vector<PrefixObservation> out;
  const std::int64_t now = unix_now();
  try {
    auto j = nlohmann::json::parse(text.str());
    if (j.at("version").get<int>() != 1) return make_error(path + ": unknown version");
    for (const auto& p : j.at("prefixes")) {
      auto prefix = Ipv6Prefix::parse(p.at("prefix").get<std::string>());
      if (!prefix) return make_error(path + ": " + prefix.error().message);
      std::int64_t valid = p.at("valid_until_unix").get<std::int64_t>() - now;
      std::int64_t preferred = p.at("preferred_until_unix").get<std::int64_t>() - now;
      if (valid <= 0) continue;
      out.push_back({*prefix, std::chrono::seconds(valid),
                     std::chrono::seconds(std::max<std::int64_t>(preferred, 0)), "remembered"});
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(path + ": not a prefix state file (" + std::string(e.what()) + ")");
  }
  return out;
}

Status save_remembered_prefixes(const std::string& state_dir,
                                const std::vector<PrefixObservation>& prefixes) {
  const std::int64_t now = unix_now();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& p : prefixes)
    list.push_back({{"prefix", p.prefix.to_string()},
                    {"valid_until_unix", now + p.valid_lifetime.count()},
                    {"preferred_until_unix", now + p.preferred_lifetime.count()}});
  nlohmann::json j = {{"version", 1}, {"saved_at_unix", now}, {"prefixes", list}};
  const std::string path = prefix_state_path(state_dir);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(tmp + ": " + std::strerror(errno));
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) return make_error(tmp + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error(path + ": " + std::strerror(errno));
  return ok_status();
}

}  // namespace sixgate::agent
