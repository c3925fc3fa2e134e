#include "common/control/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "common/control/socket_path.hpp"
#include "common/log.hpp"

namespace sixgate::control {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

constexpr std::size_t kMaxRequest = 64 * 1024;
constexpr auto kConnectionTimeout = std::chrono::seconds(5);

bool peer_allowed(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == ::geteuid() || cred.uid == 0;
}

std::string reply_line(const nlohmann::json& reply) {
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json answer(const Handler& handler, const std::string& line) {
  auto request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object())
    return {{"ok", false}, {"error", "request is not a JSON object"}};
  try {
    return {{"ok", true}, {"result", handler(request)}};
  } catch (const std::exception& e) {
    return {{"ok", false}, {"error", e.what()}};
  }
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(local::socket socket, Handler handler)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buffer_(kMaxRequest),
        handler_(std::move(handler)) {}

  void start() {
    auto self = shared_from_this();
    timer_.expires_after(kConnectionTimeout);
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->socket_.close();
    });
    asio::async_read_until(
        socket_, buffer_, '\n', [self](const boost::system::error_code& ec, std::size_t n) {
          if (ec) {
            self->timer_.cancel();
            return;
          }
          std::string line(asio::buffers_begin(self->buffer_.data()),
                           asio::buffers_begin(self->buffer_.data()) + n);
          self->reply_ = reply_line(answer(self->handler_, line));
          asio::async_write(self->socket_, asio::buffer(self->reply_),
                            [self](const boost::system::error_code&, std::size_t) {
                              self->timer_.cancel();
                              boost::system::error_code ignored;
                              self->socket_.shutdown(local::socket::shutdown_both, ignored);
                              self->socket_.close(ignored);
                            });
        });
  }

 private:
  local::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  Handler handler_;
  std::string reply_;
};

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  Impl(asio::io_context& io, std::string p, Handler h)
      : acceptor(io), path(std::move(p)), handler(std::move(h)) {}

  void accept() {
    auto self = shared_from_this();
    acceptor.async_accept([self](const boost::system::error_code& ec, local::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        if (peer_allowed(socket.native_handle())) {
          std::make_shared<Connection>(std::move(socket), self->handler)->start();
        } else {
          log::event(spdlog::level::warn, "control_peer_refused", {{"socket", self->path}});
        }
      }
      self->accept();
    });
  }

  local::acceptor acceptor;
  std::string path;
  Handler handler;
};

ControlServer::ControlServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlServer::~ControlServer() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  ::unlink(impl_->path.c_str());
}

const std::string& ControlServer::path() const {
  return impl_->path;
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(asio::io_context& io, const std::string& path,
                                                            Handler handler) {
  if (auto s = prepare_socket_directory(path); !s) return s.error();
  if (auto s = remove_stale_socket(path); !s) return s.error();
  auto impl = std::make_shared<Impl>(io, path, std::move(handler));
  boost::system::error_code ec;
  impl->acceptor.open(local(), ec);
  if (ec) return make_error("control socket " + path + ": " + ec.message());
  // The socket file must never exist with wider permissions, not even between bind() and chmod(). umask is
  // process-wide; daemons start their control socket before spawning worker threads.
  const mode_t old_mask = ::umask(0177);
  impl->acceptor.bind(local::endpoint(path), ec);
  ::umask(old_mask);
  if (ec) return make_error("control socket " + path + ": bind: " + ec.message());
  if (::chmod(path.c_str(), 0600) != 0)
    return make_error("control socket " + path + ": chmod: " + std::strerror(errno));
  impl->acceptor.listen(16, ec);
  if (ec) return make_error("control socket " + path + ": listen: " + ec.message());
  impl->accept();
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

Handler status_only_handler(std::function<nlohmann::json()> status) {
  return [status = std::move(status)](const nlohmann::json& request) -> nlohmann::json {
    auto command = request.find("command");
    if (command == request.end() || !command->is_string())
      throw std::runtime_error("request lacks \"command\"");
    if (*command == "status") return status();
    throw std::runtime_error("unknown command " + log::bounded(command->get<std::string>(), 64));
  };
}

}  // namespace sixgate::control
