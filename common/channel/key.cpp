#include "common/channel/key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/channel/protocol.hpp"

namespace sixgate::channel {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

Result<SiteKey> SiteKey::from_hex(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.size() % 2 != 0) return make_error("key: odd number of hex digits");
  std::vector<std::uint8_t> bytes;
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0)
      return make_error("key: not a hex digit at offset " + std::to_string(hi < 0 ? i : i + 1));
    bytes.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return from_bytes(std::move(bytes));
}

Result<SiteKey> SiteKey::from_bytes(std::vector<std::uint8_t> bytes) {
  if (bytes.size() < kMinKeyBytes)
    return make_error("key: " + std::to_string(bytes.size()) + " bytes, at least " +
                      std::to_string(kMinKeyBytes) + " needed (64 hex digits, e.g. `openssl rand -hex 32`)");
  SiteKey key;
  key.bytes_ = std::move(bytes);
  return key;
}

Result<SiteKey> load_key_file(const std::string& path) {
  const std::string where = "key file " + path + ": ";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return make_error(where + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return make_error(where + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(where + "not a regular file");
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(where + "mode " + mode + " lets group or others access it; chmod 600 it");
  }
  constexpr std::size_t kMaxFile = 4096;
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return make_error(where + std::strerror(e));
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxFile) {
      ::close(fd);
      return make_error(where + "longer than 4096 bytes");
    }
  }
  ::close(fd);
  auto key = SiteKey::from_hex(text);
  if (!key) return make_error(where + key.error().message);
  return key;
}

}  // namespace sixgate::channel
