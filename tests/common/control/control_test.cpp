#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/control/client.hpp"
#include "common/control/server.hpp"
#include "common/control/socket_path.hpp"

using namespace sixgate::control;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sgch-ctl-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    (void)std::system(cmd.c_str());
  }
};

// An io_context running on its own thread for the duration of a test.
struct Loop {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread;
  void run() {
    thread = std::thread([this] { io.run(); });
  }
  ~Loop() {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode;
}

}  // namespace

TEST_CASE("control: status request round trip, socket mode 0600") {
  TempDir dir;
  const std::string path = dir.path + "/d.sock";
  Loop loop;
  auto server = ControlServer::start(loop.io, path, status_only_handler([] {
                                       return nlohmann::json{{"healthy", true}, {"sites", 2}};
                                     }));
  REQUIRE(server.ok());
  loop.run();
  CHECK(S_ISSOCK(mode_of(path)));
  CHECK((mode_of(path) & 07777) == 0600);

  auto reply = request(path, {{"command", "status"}});
  REQUIRE(reply.ok());
  CHECK((*reply)["healthy"] == true);
  CHECK((*reply)["sites"] == 2);

  auto unknown = request(path, {{"command", "reboot"}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().message.find("unknown command") != std::string::npos);
  auto no_command = request(path, {{"x", 1}});
  CHECK_FALSE(no_command.ok());
}

TEST_CASE("control: garbage request gets an error reply, the server keeps serving") {
  TempDir dir;
  const std::string path = dir.path + "/d.sock";
  Loop loop;
  auto server = ControlServer::start(loop.io, path, status_only_handler([] { return nlohmann::json(1); }));
  REQUIRE(server.ok());
  loop.run();

  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const char garbage[] = "\x01\x02not json\n";
  REQUIRE(::write(fd, garbage, sizeof garbage - 1) > 0);
  char buf[256] = {};
  auto n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  REQUIRE(n > 0);
  CHECK(std::string(buf).find("\"ok\":false") != std::string::npos);

  CHECK(request(path, {{"command", "status"}}).ok());
}

TEST_CASE("control: unreachable daemon is an error naming the path") {
  TempDir dir;
  auto r = request(dir.path + "/none.sock", {{"command", "status"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("none.sock") != std::string::npos);
}

TEST_CASE("control: a hung daemon whose backlog is full costs the client its timeout, not for ever") {
  TempDir dir;
  const std::string path = dir.path + "/hung.sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const int hung = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(hung >= 0);
  REQUIRE(::bind(hung, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(hung, 0) == 0);  // never accepts
  std::vector<int> queued;
  for (int i = 0; i < 16; ++i) {  // fill the backlog until a connect would block
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    const bool accepted = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    queued.push_back(fd);
    if (!accepted) break;
  }
  REQUIRE(errno == EAGAIN);

  const auto started = std::chrono::steady_clock::now();
  auto r = request(path, {{"command", "status"}}, std::chrono::milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("connect") != std::string::npos);
  CHECK(took < std::chrono::seconds(3));
  for (int fd : queued) ::close(fd);
  ::close(hung);
}

TEST_CASE("control: a second daemon on a live socket is refused, a stale socket is replaced") {
  TempDir dir;
  const std::string path = dir.path + "/d.sock";
  {
    Loop loop;
    auto first = ControlServer::start(loop.io, path, status_only_handler([] { return nlohmann::json(1); }));
    REQUIRE(first.ok());
    loop.run();
    auto second = ControlServer::start(loop.io, path, status_only_handler([] { return nlohmann::json(2); }));
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message.find("already running") != std::string::npos);
  }
  // The destructor removed the file; leave a stale socket behind by hand (bound, never listening).
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
  Loop loop;
  auto again = ControlServer::start(loop.io, path, status_only_handler([] { return nlohmann::json(3); }));
  REQUIRE(again.ok());
  loop.run();
  auto r = request(path, {{"command", "status"}});
  REQUIRE(r.ok());
  CHECK(*r == 3);
}

TEST_CASE("control: refuses a group/other-writable directory and a non-socket file") {
  TempDir dir;
  boost::asio::io_context io;
  REQUIRE(::chmod(dir.path.c_str(), 0777) == 0);
  auto open_dir = ControlServer::start(io, dir.path + "/d.sock", status_only_handler([] { return 1; }));
  REQUIRE_FALSE(open_dir.ok());
  CHECK(open_dir.error().message.find("writable by group or others") != std::string::npos);
  REQUIRE(::chmod(dir.path.c_str(), 0700) == 0);

  const std::string file = dir.path + "/plain";
  std::ofstream(file) << "x";
  auto not_socket = ControlServer::start(io, file, status_only_handler([] { return 1; }));
  REQUIRE_FALSE(not_socket.ok());
  CHECK(not_socket.error().message.find("not a socket") != std::string::npos);
}

TEST_CASE("control: a missing socket directory is created with mode 0700") {
  TempDir dir;
  const std::string sub = dir.path + "/run";
  REQUIRE(prepare_socket_directory(sub + "/d.sock").ok());
  CHECK((mode_of(sub) & 07777) == 0700);
}
