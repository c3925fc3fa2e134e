#include "common/control/socket_path.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sixgate::control {
namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool socket_answers(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

}  // namespace

Status prepare_socket_directory(const std::string& socket_path) {
  if (socket_path.empty()) return make_error("control socket: empty path");
  if (socket_path.size() >= sizeof(sockaddr_un::sun_path))
    return make_error("control socket " + socket_path + ": path too long");
  const std::string dir = parent_of(socket_path);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return make_error("control socket directory " + dir + ": " + std::strerror(errno));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return make_error("control socket directory " + dir + ": cannot create: " + std::strerror(errno));
    if (::lstat(dir.c_str(), &st) != 0)
      return make_error("control socket directory " + dir + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) return make_error("control socket directory " + dir + ": not a directory");
  if (st.st_uid != ::geteuid() && st.st_uid != 0)
    return make_error("control socket directory " + dir + ": owned by uid " + std::to_string(st.st_uid) +
                      ", expected this user or root");
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return make_error("control socket directory " + dir +
                      ": writable by group or others; use a private directory (mode 0700 or 0755)");
  return ok_status();
}

Status remove_stale_socket(const std::string& socket_path) {
  struct stat st {};
  if (::lstat(socket_path.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok_status();
    return make_error("control socket " + socket_path + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode))
    return make_error("control socket " + socket_path + ": exists and is not a socket");
  if (socket_answers(socket_path))
    return make_error("control socket " + socket_path +
                      ": another daemon is answering on it (already running?)");
  if (::unlink(socket_path.c_str()) != 0)
    return make_error("control socket " + socket_path +
                      ": cannot remove stale socket: " + std::strerror(errno));
  return ok_status();
}

}  // namespace sixgate::control
