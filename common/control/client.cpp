#include "common/control/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sixgate::control {
namespace {

constexpr std::size_t kMaxReply = 4 * 1024 * 1024;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

Result<nlohmann::json> request(const std::string& socket_path, const nlohmann::json& req,
                               std::chrono::milliseconds timeout) {
  const std::string where = "control socket " + socket_path + ": ";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path)
    return make_error(where + "bad path");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return make_error(where + std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return make_error(where + "cannot connect: " + std::strerror(errno));

  const std::string line = req.dump() + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(where + "send: " + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
  }

  std::string reply;
  char buf[4096];
  while (reply.find('\n') == std::string::npos) {
    pollfd p{fd.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return make_error(where + "poll: " + std::strerror(errno));
    if (ready == 0) return make_error(where + "no reply within " + std::to_string(timeout.count()) + " ms");
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(where + "recv: " + std::strerror(errno));
    }
    if (n == 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
    if (reply.size() > kMaxReply) return make_error(where + "reply too long");
  }
  auto end = reply.find('\n');
  if (end == std::string::npos) return make_error(where + "connection closed before a full reply");
  auto j = nlohmann::json::parse(reply.substr(0, end), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error(where + "reply is not a JSON object");
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return make_error(where + "reply lacks \"ok\"");
  if (!ok->get<bool>()) {
    auto err = j.find("error");
    return make_error(
        where + "daemon refused: " + (err != j.end() && err->is_string() ? err->get<std::string>() : "?"));
  }
  auto result = j.find("result");
  if (result == j.end()) return make_error(where + "reply lacks \"result\"");
  return *result;
}

}  // namespace sixgate::control
