// The connection flow end to end in unix mode (no DNS needed): a socket pair stands for the client, a unix
// socket named after the host for the backend, and the access log is captured.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "proxy/connection.hpp"
#include "proxy/core/sniff.hpp"
#include "tests/proxy/core/hello_builder.hpp"
#include "tests/proxy/log_capture.hpp"
#include "tests/proxy/run_until.hpp"

using namespace sixgate;
using namespace sixgate::proxy;
using test::Bytes;

namespace {

using Clock = std::chrono::steady_clock;

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/sixgate-connection-test.XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A listening unix socket at `path`; connections queue in its backlog until accept_one().
class UnixBackend {
 public:
  explicit UnixBackend(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
  }
  ~UnixBackend() {
    if (conn_ >= 0) ::close(conn_);
    ::close(fd_);
  }
  // Accepts once, then collects what arrives; false while nothing has connected.
  bool read_some() {
    if (conn_ < 0) conn_ = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn_ < 0) return false;
    char buf[65536];
    ssize_t n = ::recv(conn_, buf, sizeof buf, 0);
    if (n > 0) received.insert(received.end(), buf, buf + n);
    return true;
  }
  Bytes received;

 private:
  int fd_ = -1;
  int conn_ = -1;
};

struct ClientPair {
  int outer = -1, inner = -1;
  ClientPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    outer = fds[0];
    inner = fds[1];
  }
  ~ClientPair() { ::close(outer); }
  std::size_t sent = 0;
  // Sends what the socket takes of `bytes` from where the last call stopped.
  void push(const Bytes& bytes) {
    if (sent >= bytes.size()) return;
    ssize_t n = ::send(outer, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  Bytes drain() {
    Bytes got;
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(outer, buf, sizeof buf, MSG_DONTWAIT)) > 0) got.insert(got.end(), buf, buf + n);
    return got;
  }
};

struct Harness {
  explicit Harness(const std::string& connect_timeout, const std::string& hello_timeout = "5s") {
    auto parsed = parse_proxy_args({"-listen", "tcp:5432", "-mode", "unix", "-unix-directory", dir.path(),
                                    "--connect-timeout", connect_timeout, "--hello-timeout", hello_timeout});
    REQUIRE(parsed.ok());
    ctx.reset(new WorkerContext{
        *loop, std::make_shared<const RuntimeConfig>(*parsed), nullptr, {}, active, clients, {}, {}});
  }
  // A connection from 192.0.2.2:40000 on `client`'s inner end.
  void accept(ClientPair& client) {
    sockaddr_storage peer{};
    auto* a = reinterpret_cast<sockaddr_in*>(&peer);
    a->sin_family = AF_INET;
    a->sin_port = htons(40000);
    a->sin_addr.s_addr = htonl(0xc0000202);
    active.fetch_add(1);
    std::make_shared<Connection>(*ctx, client.inner, peer, "tcp:5432", 5432, ClientCounts::Slot())->start();
  }
  // Runs the loop until `done` (bounded: a bug fails instead of hanging).
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    return test::run_until(*loop, done, limit);
  }

  // In this order: connections still held by the loop (its poller's listeners, its timers and posted work)
  // give their place back to `active` when those are destroyed.
  test::LogCapture log;
  TempDir dir;
  std::atomic<std::size_t> active{0};
  ClientCounts clients;
  std::unique_ptr<EventLoop> loop = EventLoop::create().value();
  std::unique_ptr<WorkerContext> ctx;
};

Bytes hello_of_size(std::size_t message_bytes) {
  test::HelloBuilder base;
  base.sni("app.test");
  const std::size_t plain = base.message().size();
  constexpr std::size_t kExtensionHeader = 4;
  test::HelloBuilder padded;
  padded.sni("app.test").padding(message_bytes - plain - kExtensionHeader);
  Bytes m = padded.message();
  REQUIRE(m.size() == message_bytes);
  return m;
}

Bytes small_hello() {
  return test::records(test::HelloBuilder().sni("app.test").message(), 16384);
}

constexpr std::size_t kAlertBytes = 7;

}  // namespace

TEST_CASE("postgres: a backend that accepts but never answers 'S' ends at the connect timeout, logged") {
  Harness h("300ms");
  UnixBackend silent(h.dir.path() + "/app.test");
  ClientPair client;
  Bytes opening(kPostgresSslRequest.begin(), kPostgresSslRequest.end());
  test::put(opening, small_hello());
  h.accept(client);
  const auto started = Clock::now();
  REQUIRE(h.run_until([&] {
    client.push(opening);
    return h.log.has("reason=");
  }));
  const auto waited = Clock::now() - started;
  CHECK(h.log.has("outcome=refused"));
  CHECK(h.log.has("reason=backend_timeout"));
  CHECK(h.log.has("backend=unix:" + h.dir.path() + "/app.test"));
  CHECK(waited >= std::chrono::milliseconds(250));
  Bytes got = client.drain();
  REQUIRE(got.size() == 1 + kAlertBytes);  // our 'S', then the internal_error alert
  CHECK(got[0] == 'S');
  CHECK(got[1] == 0x15);
  CHECK(h.run_until([&] { return h.active.load() == 0; }));
}

TEST_CASE("a 64 KiB hello in one-byte records is accepted and replayed unchanged") {
  Harness h("2s");
  UnixBackend backend(h.dir.path() + "/app.test");
  ClientPair client;
  // The largest hello the parser takes (--max-hello-bytes 65536 plus the 4-byte header), six times its size
  // on the wire.
  const Bytes wire = test::records(hello_of_size(65536 + 4), 1);
  REQUIRE(wire.size() == 6 * (65536 + 4));
  h.accept(client);
  REQUIRE(h.run_until([&] {
    client.push(wire);
    backend.read_some();
    return backend.received.size() >= wire.size() || h.log.has("reason=");
  }));
  CHECK_FALSE(h.log.has("reason="));  // not refused (hello_too_large before)
  CHECK(backend.received == wire);
}

TEST_CASE("a replay the backend never takes ends at the connect timeout, logged") {
  Harness h("400ms");
  UnixBackend silent(h.dir.path() + "/app.test");  // never accepts: the replay fills its queue and stops
  ClientPair client;
  const Bytes wire = test::records(hello_of_size(65536 + 4), 1);
  // A unix stream socket queues at most its send buffer (net.core.wmem_default, 208 KiB unless tuned).
  std::size_t send_buffer = 0;
  std::ifstream("/proc/sys/net/core/wmem_default") >> send_buffer;
  if (send_buffer >= wire.size()) {
    WARN("net.core.wmem_default " << send_buffer << " holds the whole replay: nothing to test here");
    return;
  }
  h.accept(client);
  REQUIRE(h.run_until([&] {
    client.push(wire);
    return h.log.has("reason=");
  }));
  CHECK(h.log.has("outcome=refused"));
  CHECK(h.log.has("reason=backend_timeout"));
}

TEST_CASE("stopping live connections logs each one as stopped: before and during the relay") {
  Harness h("2s");
  UnixBackend backend(h.dir.path() + "/app.test");
  ClientPair relayed, waiting;
  const Bytes hello = small_hello();
  h.accept(relayed);
  REQUIRE(h.run_until([&] {
    relayed.push(hello);
    backend.read_some();
    return backend.received.size() >= hello.size();
  }));
  h.accept(waiting);  // still in its hello
  h.run_until([] { return false; }, std::chrono::milliseconds(20));
  CHECK(h.ctx->live.size() == 2);
  CHECK(h.ctx->live.stop_all("drain_timeout") == 2);
  CHECK(h.ctx->live.size() == 0);
  CHECK(h.log.count("outcome=stopped reason=drain_timeout") == 2);
  CHECK(h.log.has("up=" + std::to_string(hello.size())));  // the relayed one, with its byte counts
  const auto tally = h.ctx->tally.totals();                // what status shows: the same two lines, counted
  CHECK(tally.stopped == 2);
  CHECK(tally.relayed + tally.refused == 0);
  CHECK(tally.up_bytes == hello.size());
  CHECK(tally.reasons == std::map<std::string, std::uint64_t, std::less<>>{{"drain_timeout", 2}});
  CHECK(h.run_until([&] { return h.active.load() == 0; }));
  char c;
  CHECK(::recv(waiting.outer, &c, 1, MSG_DONTWAIT) == 0);  // closed
}

TEST_CASE("a hello timeout that expires in the same wake-up as the hello completes is stale and ignored") {
  Harness h("2s", "50ms");
  UnixBackend backend(h.dir.path() + "/app.test");
  ClientPair client;
  const Bytes hello = small_hello();
  h.accept(client);  // nothing read yet: it waits for the poller
  client.push(hello);
  REQUIRE(client.sent == hello.size());
  // The worker is busy elsewhere past the hello timeout: the next wake-up finds both the hello and the
  // expiry ready. The loop hands out descriptor readiness before expired timers, so the hello moves the
  // connection on (connect deadline armed) first, and the old expiry must not be taken for the new deadline.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(h.run_until([&] {
    backend.read_some();
    return backend.received.size() >= hello.size() || h.log.has("reason=");
  }));
  CHECK_FALSE(h.log.has("reason="));
  CHECK(backend.received == hello);
}

TEST_CASE(
    "bytes the client sent right behind its hello reach the backend: the relay knows they are waiting") {
  Harness h("2s");
  UnixBackend backend(h.dir.path() + "/app.test");
  ClientPair client;
  // All of it is queued before the connection first runs, so no edge announces the bytes the hello phase
  // left unread: the relay must take over the client socket as readable.
  Bytes wire = small_hello();
  const Bytes after(48 * 1024, 0x17);
  test::put(wire, after);
  h.accept(client);
  client.push(wire);
  REQUIRE(client.sent == wire.size());
  REQUIRE(h.run_until([&] {
    backend.read_some();
    return backend.received.size() >= wire.size() || h.log.has("reason=");
  }));
  CHECK(backend.received == wire);
}
