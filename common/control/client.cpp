#include "common/control/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

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

// Waits until `fd` has one of `events`; false when the deadline passes first or poll() fails (EINTR retried).
bool wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    return ready > 0;
  }
}

// A daemon that hangs with its listen backlog full would block a plain connect() for ever; a Unix socket
// answers a non-blocking connect() to a full backlog with EAGAIN (no EINPROGRESS), so retry until the
// deadline.
Status connect_before(int fd, const sockaddr_un& addr, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return ok_status();
    if (errno == EINTR) continue;
    if (errno == EINPROGRESS) break;
    if (errno != EAGAIN) return make_error(std::string("cannot connect: ") + std::strerror(errno));
    if (remaining_ms(deadline) == 0) return make_error("cannot connect: the daemon accepts no connection");
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(20, remaining_ms(deadline))));
  }
  if (!wait_ready(fd, POLLOUT, deadline))
    return make_error("cannot connect: no connection before the deadline");
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error != 0) return make_error(std::string("cannot connect: ") + std::strerror(error));
  return ok_status();
}

Status send_all_before(int fd, const std::string& data, std::chrono::steady_clock::time_point deadline) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return make_error(std::string("send: ") + std::strerror(errno));
    if (!wait_ready(fd, POLLOUT, deadline)) return make_error("send: the daemon reads nothing");
  }
  return ok_status();
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
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return make_error(where + std::strerror(errno));
  if (Status connected = connect_before(fd.get(), addr, deadline); !connected)
    return make_error(where + connected.error().message);
  if (Status sent = send_all_before(fd.get(), req.dump() + "\n", deadline); !sent)
    return make_error(where + sent.error().message);

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
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
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
