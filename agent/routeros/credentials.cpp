// load_credentials (declared in client.hpp): from a private file or the environment, never from the command
// line.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/routeros/client.hpp"

namespace sixgate::agent::routeros {
namespace {

constexpr std::size_t kMaxFileBytes = 4096;

void strip_line_end(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

}  // namespace

Result<Credentials> load_credentials(const std::string& file_or_empty) {
  if (file_or_empty.empty()) {
    const char* user = std::getenv("SIXGATE_ROUTER_USER");
    const char* password = std::getenv("SIXGATE_ROUTER_PASSWORD");
    if (user == nullptr || *user == '\0')
      return make_error(
          "router credentials: no credentials file given and SIXGATE_ROUTER_USER is not set (set "
          "SIXGATE_ROUTER_USER and SIXGATE_ROUTER_PASSWORD, or give a credentials file)");
    if (password == nullptr)
      return make_error("router credentials: SIXGATE_ROUTER_USER is set but SIXGATE_ROUTER_PASSWORD is not");
    return Credentials{user, password};
  }

  const std::string& path = file_or_empty;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error("router credentials file " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return make_error("router credentials file " + path + ": not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    return make_error("router credentials file " + path +
                      " is accessible by group or others; run: chmod 600 " + path);
  if (static_cast<std::size_t>(st.st_size) > kMaxFileBytes)
    return make_error("router credentials file " + path + ": too large for a user and password");

  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("router credentials file " + path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();

  Credentials c;
  std::size_t nl = text.find('\n');
  std::string first = text.substr(0, nl);
  strip_line_end(first);
  std::string rest = nl == std::string::npos ? std::string() : text.substr(nl + 1);
  strip_line_end(rest);
  if (!rest.empty()) {  // "user\npassword\n"
    if (rest.find('\n') != std::string::npos)
      return make_error("router credentials file " + path +
                        ": expected two lines (user, password) or one line user:password");
    c.user = first;
    c.password = rest;
  } else {  // "user:password"
    std::size_t colon = first.find(':');
    if (colon == std::string::npos)
      return make_error("router credentials file " + path +
                        ": expected two lines (user, password) or one line user:password");
    c.user = first.substr(0, colon);
    c.password = first.substr(colon + 1);
  }
  if (c.user.empty()) return make_error("router credentials file " + path + ": the user name is empty");
  return c;
}

}  // namespace sixgate::agent::routeros
