#include "agent/state_file.hpp"

#include <fcntl.h>
#include <unistd.h>

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

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

Status write_synced(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(errno_text(path));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = make_error(errno_text(path));
      ::close(fd);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Error e = make_error(errno_text(path + ": fsync"));
    ::close(fd);
    return e;
  }
  if (::close(fd) != 0) return make_error(errno_text(path + ": close"));
  return ok_status();
}

// Makes the rename itself durable.
Status sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error(errno_text(dir));
  const int synced = ::fsync(fd);
  const int saved_errno = errno;
  ::close(fd);
  errno = saved_errno;
  if (synced != 0) return make_error(errno_text(dir + ": fsync"));
  return ok_status();
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
  // Durable before it replaces the old file: after a power cut the file is the old or the new one, never
  // empty.
  if (Status written = write_synced(tmp, j.dump(2) + "\n"); !written) return written;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error(path + ": " + std::strerror(errno));
  return sync_directory(state_dir);
}

}  // namespace sixgate::agent
