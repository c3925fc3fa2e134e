// The splice relay between two socket pairs: bytes arrive unchanged both ways, half-close travels in both
// directions, and the result counts the bytes.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "proxy/relay.hpp"
#include "tests/proxy/tcp_info.hpp"

using namespace sixgate::proxy;

namespace {

enum class Transport { unix_stream, tcp_loopback };

// A connected pair of non-blocking stream sockets: a socketpair, or TCP over 127.0.0.1 where the test needs
// TCP's own behaviour (windows, segments).
struct Pair {
  Transport transport;
  int outer = -1;  // the test's end (client or backend)
  int inner = -1;  // the end the relay gets
  explicit Pair(Transport t = Transport::unix_stream) : transport(t) {
    if (t == Transport::unix_stream) {
      int fds[2];
      REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
      outer = fds[0];
      inner = fds[1];
      return;
    }
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(listener, 1) == 0);
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    outer = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::connect(outer, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    inner = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ::close(listener);
    REQUIRE(inner >= 0);
  }
  ~Pair() { ::close(outer); }
};

// Whether the kernel's epoll set reports input on `fd`, from /proc/self/fdinfo of the set's descriptor (lines
// "tfd: <fd> events: <hex mask> data: ...").
bool reports_input(const ReadinessPoller& poller, int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(poller.descriptor()));
  std::string word;
  while (in >> word) {
    if (word != "tfd:") continue;
    int target = -1;
    std::string label;
    std::uint32_t events = 0;
    in >> target >> label >> std::hex >> events >> std::dec;
    if (target == fd && label == "events:") return (events & EPOLLIN) != 0;
  }
  FAIL("fd " << fd << " is not in the poller's set");
  return false;
}

void run_until(EventLoop& loop, const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) loop.run_for(std::chrono::milliseconds(10));
}

std::string read_all_available(int fd, std::size_t want, EventLoop& loop) {
  std::string got;
  run_until(loop, [&] {
    char buf[65536];
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    return got.size() >= want;
  });
  return got;
}

void send_all(int fd, const std::string& bytes) {
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_DONTWAIT) == static_cast<ssize_t>(bytes.size()));
}

bool read_to_eof(int fd, EventLoop& loop) {
  bool eof = false;
  run_until(loop, [&] {
    char c;
    eof = ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
    return eof;
  });
  return eof;
}

// While it lives, the process cannot open another descriptor: the soft RLIMIT_NOFILE is the lowest free one.
class NoNewDescriptors {
 public:
  NoNewDescriptors() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit tight = saved_;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == -1);
    REQUIRE(errno == EMFILE);
  }
  ~NoNewDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  NoNewDescriptors(const NoNewDescriptors&) = delete;
  NoNewDescriptors& operator=(const NoNewDescriptors&) = delete;

 private:
  rlimit saved_{};
};

// Holds a socket in the poller's set until the relay takes it over, as the connection phase does. Every test
// starts the relay before the io_context turns, so it never hears from its socket.
struct ConnectionStandIn : ReadinessPoller::Listener {
  void on_ready(std::uint32_t, std::uint32_t) override { FAIL("a socket reported before the relay took it"); }
};

// `ready`: what the connection phase learnt of the socket, which the relay acts on when it starts.
WatchedSocket join(ReadinessPoller& poller, int fd, Readiness ready = {}) {
  return WatchedSocket{
      .fd = fd, .token = poller.watch(fd, std::make_shared<ConnectionStandIn>(), 0).value(), .ready = ready};
}

// A relay between two socket pairs, its result kept once it ends.
struct RelayRig {
  std::unique_ptr<EventLoop> loop = EventLoop::create().value();
  ReadinessPoller* poller = &loop->poller();
  Pair client, backend;
  PipePool pipes;
  std::optional<RelayResult> result;
  std::shared_ptr<Relay> relay;

  explicit RelayRig(std::chrono::milliseconds idle_timeout = std::chrono::milliseconds(0),
                    Transport transport = Transport::unix_stream, Readiness client_ready = {},
                    std::size_t pipe_bytes = PipePool::kPipeBytes)
      : client(transport),
        backend(transport),
        pipes(pipe_bytes),
        relay(std::make_shared<Relay>(join(*poller, client.inner, client_ready), join(*poller, backend.inner),
                                      pipes, *loop, idle_timeout,
                                      [this](const RelayResult& r) { result = r; })) {}
  void wait_for_end() {
    run_until(*loop, [&] { return result.has_value(); });
  }
  // Both peers have closed: the relay ends as "closed", having counted `up` and `down` bytes.
  void expect_closed(std::size_t up, std::size_t down) {
    wait_for_end();
    REQUIRE(result.has_value());
    CHECK(result->outcome == "closed");
    CHECK(result->client_to_backend == up);
    CHECK(result->backend_to_client == down);
  }
};

}  // namespace

TEST_CASE("relay: bytes both ways, then half-close each way, then done") {
  // Spliced, and copied through a buffer as when no pipe can be had (EMFILE), over unix and TCP sockets.
  const bool without_pipes = GENERATE(false, true);
  const auto transport = GENERATE(Transport::unix_stream, Transport::tcp_loopback);
  RelayRig rig(std::chrono::milliseconds(0), transport);
  // Named references, not a structured binding: the lambdas below capture them (clang before 16 cannot).
  auto& loop = rig.loop;
  auto& client = rig.client;
  auto& backend = rig.backend;
  auto& pipes = rig.pipes;
  auto& result = rig.result;
  auto& relay = rig.relay;
  std::optional<NoNewDescriptors> no_new_descriptors;
  if (without_pipes) no_new_descriptors.emplace();
  relay->start();

  std::string up(300000, 'u');
  for (std::size_t i = 0; i < up.size(); ++i) up[i] = static_cast<char>('a' + i % 26);
  std::size_t sent = 0;
  std::string got;
  run_until(*loop, [&] {
    if (sent < up.size()) {
      ssize_t n = ::send(client.outer, up.data() + sent, up.size() - sent, MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    char buf[65536];
    ssize_t n = ::recv(backend.outer, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    return got.size() >= up.size();
  });
  CHECK(got == up);
  CHECK(pipes.opened() == (without_pipes ? 0u : 1u));  // the first full read switched to splice

  // Client is done sending: the backend sees EOF, but may still answer.
  ::shutdown(client.outer, SHUT_WR);
  CHECK(read_to_eof(backend.outer, *loop));
  CHECK_FALSE(result.has_value());

  const std::string down = "reply after the client's half-close";
  send_all(backend.outer, down);
  CHECK(read_all_available(client.outer, down.size(), *loop) == down);
  ::shutdown(backend.outer, SHUT_WR);
  rig.expect_closed(up.size(), down.size());
}

TEST_CASE("relay: an idle timeout ends a silent relay") {
  RelayRig rig(std::chrono::milliseconds(50));
  rig.relay->start();
  rig.wait_for_end();
  REQUIRE(rig.result.has_value());
  CHECK(rig.result->outcome == "idle_timeout");
  char c;
  CHECK(::recv(rig.client.outer, &c, 1, MSG_DONTWAIT) == 0);  // the relay closed its ends
}

TEST_CASE("relay: bytes and EOF already waiting when the relay starts are delivered") {
  // Over TCP the EOF raises no edge of its own after the bytes were read: a short read must not be taken
  // for "nothing more" when the peer has closed.
  const auto transport = GENERATE(Transport::unix_stream, Transport::tcp_loopback);
  RelayRig rig(std::chrono::milliseconds(0), transport);
  auto& [loop, poller, client, backend, pipes, result, relay] = rig;
  const std::string up = "client's first flight", down = "backend's answer";
  send_all(client.outer, up);
  send_all(backend.outer, down);
  ::shutdown(client.outer, SHUT_WR);
  ::shutdown(backend.outer, SHUT_WR);
  relay->start();
  CHECK(read_all_available(backend.outer, up.size(), *loop) == up);
  CHECK(read_all_available(client.outer, down.size(), *loop) == down);
  rig.expect_closed(up.size(), down.size());
}

TEST_CASE("relay: a last flight and the FIN behind it leave in one segment") {
  // The sender's FIN is in before the relay reads the flight, so the relay holds the flight's segment back
  // until the EOF it reads next has it shut down writing, and the FIN goes out on that segment. The receiving
  // peer has sent nothing since its handshake, so every segment it receives is the relay's.
  // Copied (a small flight), and spliced (after a first read that filled the copy buffer).
  const bool from_client = GENERATE(true, false);
  const bool spliced = GENERATE(false, true);
  RelayRig rig(std::chrono::milliseconds(0), Transport::tcp_loopback);
  Pair& sender = from_client ? rig.client : rig.backend;
  Pair& receiver = from_client ? rig.backend : rig.client;
  if (spliced) {
    const std::string bulk(16384, 'b');
    send_all(sender.outer, bulk);
    rig.relay->start();
    REQUIRE(read_all_available(receiver.outer, bulk.size(), *rig.loop) == bulk);
    REQUIRE(rig.pipes.opened() == 1);
  }
  const std::string flight(517, 'h');
  send_all(sender.outer, flight);
  ::shutdown(sender.outer, SHUT_WR);
  const std::uint32_t before = test::tcp_info_of(receiver.outer).tcpi_segs_in;
  if (!spliced) rig.relay->start();
  CHECK(read_all_available(receiver.outer, flight.size(), *rig.loop) == flight);
  CHECK(read_to_eof(receiver.outer, *rig.loop));
  CHECK(test::tcp_info_of(receiver.outer).tcpi_segs_in - before == 1);
  CHECK_FALSE(rig.result.has_value());  // the other direction is still open
}

TEST_CASE("relay: a flight held back for a FIN still leaves when its sender resets instead") {
  // The client's bytes are read as its FIN is thought to be behind them and held back; the next read finds a
  // reset, and the relay closes the backend socket, which has unread bytes of its own: a close that resets
  // it. The bytes held back must have gone first. The relay starts knowing the client ready (as the
  // connection phase would), so it reads the client before anything else.
  Readiness client_ready;
  client_ready.note(EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
  RelayRig rig(std::chrono::milliseconds(0), Transport::tcp_loopback, client_ready);
  const std::string request = "last words", unread = "answer nobody reads";
  send_all(rig.backend.outer, unread);
  send_all(rig.client.outer, request);
  const linger reset_on_close{.l_onoff = 1, .l_linger = 0};
  REQUIRE(::setsockopt(rig.client.outer, SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close) == 0);
  ::close(rig.client.outer);
  rig.client.outer = -1;
  rig.relay->start();
  rig.wait_for_end();
  REQUIRE(rig.result.has_value());
  CHECK(rig.result->outcome.starts_with("client_error:"));
  CHECK(read_all_available(rig.backend.outer, request.size(), *rig.loop) == request);
}

TEST_CASE("relay: small flights back and forth are each delivered without waiting for more") {
  // After a small read the relay waits for readiness instead of reading again: every next flight must wake
  // it.
  const auto transport = GENERATE(Transport::unix_stream, Transport::tcp_loopback);
  RelayRig rig(std::chrono::milliseconds(0), transport);
  auto& [loop, poller, client, backend, pipes, result, relay] = rig;
  relay->start();
  for (int round = 0; round < 50; ++round) {
    const std::string ask = "request " + std::to_string(round), answer = "response " + std::to_string(round);
    send_all(client.outer, ask);
    REQUIRE(read_all_available(backend.outer, ask.size(), *loop) == ask);
    send_all(backend.outer, answer);
    REQUIRE(read_all_available(client.outer, answer.size(), *loop) == answer);
  }
  CHECK(pipes.opened() == 0);  // small flights are copied
  CHECK_FALSE(result.has_value());
  relay->stop("test_end");
  REQUIRE(result.has_value());
  CHECK(result->stopped);
}

TEST_CASE("relay: a direction copies small flights, then splices once a read fills its buffer, in order") {
  // The switch waits until the destination has taken every copied byte. Here the backend reads little and
  // late, so the read that triggers the switch meets a full socket and part of it is held: the pipe must not
  // overtake those bytes.
  // Unix sockets: a socket's room for sending is its own send buffer, here smaller than one full read, so
  // each send after the backend reads a little is a partial one. (Over loopback TCP the window opens in large
  // steps and a full read would usually go out whole.)
  RelayRig rig(std::chrono::milliseconds(0), Transport::unix_stream);
  auto& [loop, poller, client, backend, pipes, result, relay] = rig;
  const int send_buffer = 4096;
  REQUIRE(::setsockopt(backend.inner, SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer) == 0);
  relay->start();
  std::string stream;
  // Small flights, each read on its own, until the backend's side is full and the relay holds bytes (which
  // parks the client's socket).
  for (int flight = 0; flight < 2000 && reports_input(*poller, client.inner); ++flight) {
    const std::string bytes(1000, static_cast<char>('A' + flight % 26));
    send_all(client.outer, bytes);
    stream += bytes;
    loop->run_one_turn(0);
  }
  REQUIRE_FALSE(reports_input(*poller, client.inner));
  CHECK(pipes.opened() == 0);

  std::string bulk(1 << 20, '\0');
  for (std::size_t i = 0; i < bulk.size(); ++i) bulk[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  stream += bulk;
  std::size_t sent = stream.size() - bulk.size();
  std::string got;
  for (int i = 0; i < 100000 && got.size() < stream.size(); ++i) {
    if (sent < stream.size()) {
      ssize_t n = ::send(client.outer, stream.data() + sent, stream.size() - sent, MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    char buf[4096];  // a slow reader: the relay keeps meeting a full socket
    ssize_t n = ::recv(backend.outer, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    if (n <= 0)
      loop->run_for(std::chrono::milliseconds(1));
    else
      loop->run_one_turn(0);
  }
  REQUIRE(got.size() == stream.size());
  CHECK(got == stream);
  CHECK(pipes.opened() == 1);
  ::shutdown(client.outer, SHUT_WR);
  ::shutdown(backend.outer, SHUT_WR);
  rig.expect_closed(stream.size(), 0);
}

TEST_CASE("relay: a source parked while its destination is full wakes the relay again for a small flight") {
  // While the backend does not read, the relay has the poller stop reporting the client socket's input so
  // arriving bytes do not wake it for nothing; once the backend has taken everything, input must be reported
  // again, or a few bytes from the client would never be noticed.
  RelayRig rig(std::chrono::milliseconds(0), Transport::tcp_loopback);
  // Named references, not a structured binding: the lambdas below capture them (clang before 16 cannot).
  auto& loop = rig.loop;
  auto& poller = rig.poller;
  auto& client = rig.client;
  auto& backend = rig.backend;
  auto& result = rig.result;
  auto& relay = rig.relay;
  relay->start();
  const std::string block(65536, 'b');
  std::uint64_t sent = 0;
  int idle_rounds = 0;
  for (int i = 0; i < 2000 && idle_rounds < 20; ++i) {  // fill everything up to the client's send buffer
    ssize_t n = ::send(client.outer, block.data(), block.size(), MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::uint64_t>(n);
      idle_rounds = 0;
    } else {
      ++idle_rounds;
    }
    loop->run_for(std::chrono::milliseconds(n > 0 ? 0 : 5));
  }
  REQUIRE(idle_rounds >= 20);
  CHECK_FALSE(reports_input(*poller, client.inner));  // parked

  std::uint64_t received = 0;
  run_until(*loop, [&] {
    char buf[65536];
    for (ssize_t n; (n = ::recv(backend.outer, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
      received += static_cast<std::uint64_t>(n);
    return received >= sent;
  });
  REQUIRE(received == sent);
  run_until(*loop, [&] { return reports_input(*poller, client.inner); });
  CHECK(reports_input(*poller, client.inner));

  const std::string ping = "ping";
  send_all(client.outer, ping);
  CHECK(read_all_available(backend.outer, ping.size(), *loop) == ping);
  CHECK_FALSE(result.has_value());
  relay->stop("test_end");
}

TEST_CASE("relay: a burst larger than a small pipe's slots arrives whole, though its sender then waits") {
  // A pipe fills by page slots, one per segment fragment, before it fills by bytes: a 1-page pipe takes one
  // fragment per splice. The backend sends a burst of small segments (each its own fragment: loopback does
  // not merge them) and then waits for the client, so once the burst is in, no further segment raises an
  // edge. The relay must keep reading, not take a short splice or a full pipe's EAGAIN for a drained source.
  RelayRig rig(std::chrono::milliseconds(0), Transport::tcp_loopback, {}, 4096);
  auto& [loop, poller, client, backend, pipes, result, relay] = rig;
  {
    auto probe = pipes.take();
    REQUIRE(probe.has_value());
    REQUIRE(probe->capacity == 4096);
    pipes.give(*probe);
  }
  const int on = 1;
  REQUIRE(::setsockopt(backend.outer, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0);
  relay->start();
  std::string burst(400 * 1000, '\0');
  for (std::size_t i = 0; i < burst.size(); ++i) burst[i] = static_cast<char>('a' + (i * 13 + i / 997) % 26);
  const std::size_t segment = 1000;
  std::size_t sent = 0;
  std::string got;
  for (int i = 0; i < 3000 && got.size() < burst.size(); ++i) {
    while (sent < burst.size()) {
      ssize_t n =
          ::send(backend.outer, burst.data() + sent, std::min(segment, burst.size() - sent), MSG_DONTWAIT);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    char buf[65536];
    ssize_t n = ::recv(client.outer, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    loop->run_for(std::chrono::milliseconds(n > 0 ? 0 : 1));
  }
  INFO("sent " << sent << ", relayed " << got.size());
  REQUIRE(sent == burst.size());
  REQUIRE(got.size() == burst.size());
  CHECK(got == burst);
  CHECK_FALSE(result.has_value());
  relay->stop("test_end");
}

TEST_CASE("relay: a full one-slot pipe's EAGAIN while a reader drains the destination does not end reading") {
  // A splice into a pipe whose slots are all in use fails with EAGAIN although the socket still holds data.
  // With a client that reads while the relay writes (another thread here, as in life), a write can take
  // part of the pipe, the next read then meets the full pipe, and the write after it empties the pipe: the
  // direction is then idle but for its source, which must still count as readable. The backend's burst sits
  // in the relay's receive queue by then, so no new segment would raise another edge. The interleaving is
  // up to the scheduler, so the burst is relayed several times, each through a fresh relay.
  const std::string burst = [] {
    std::string b(300 * 1000, '\0');
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + (i * 7 + i / 1009) % 26);
    return b;
  }();
  for (int round = 0; round < 12; ++round) {
    RelayRig rig(std::chrono::milliseconds(0), Transport::tcp_loopback, {}, 4096);
    // Named references, not a structured binding: the reader thread captures them (clang before 16 cannot).
    auto& loop = rig.loop;
    auto& client = rig.client;
    auto& backend = rig.backend;
    auto& relay = rig.relay;
    const int on = 1;
    REQUIRE(::setsockopt(backend.outer, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0);
    const int small = 4096;  // the relay's writes to the client stop part-way often
    REQUIRE(::setsockopt(client.inner, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
    relay->start();
    std::atomic<std::size_t> got_size{0};
    std::string got;
    std::thread reader([&] {  // gives up after a second without a byte
      const timeval wait{0, 20000};
      (void)::setsockopt(client.outer, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
      for (int idle = 0; idle < 50 && got.size() < burst.size(); ++idle) {
        char buf[700];
        for (ssize_t n; (n = ::recv(client.outer, buf, sizeof buf, 0)) > 0;) {
          got.append(buf, static_cast<std::size_t>(n));
          got_size = got.size();
          idle = 0;
        }
      }
      got_size = burst.size() + 1;  // done, either way
    });
    std::size_t sent = 0;
    for (int i = 0; i < 5000 && got_size < burst.size(); ++i) {
      while (sent < burst.size()) {
        ssize_t n = ::send(backend.outer, burst.data() + sent,
                           std::min<std::size_t>(1000, burst.size() - sent), MSG_DONTWAIT);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      loop->run_for(std::chrono::milliseconds(1));
    }
    reader.join();
    INFO("round " << round << ": sent " << sent << ", relayed " << got.size());
    REQUIRE(sent == burst.size());
    REQUIRE(got.size() == burst.size());
    REQUIRE(got == burst);
    CHECK_FALSE(rig.result.has_value());
    relay->stop("test_end");
  }
}

TEST_CASE("relay: flights of random sizes both ways at once, over TCP, arrive intact and in order") {
  // Edge-triggered readiness loses nothing only if every "not ready" the relay records is followed by an
  // edge: mixed small and bulk flights in both directions, with both ends reading and writing as they can.
  // Also with 2-page pipes, what an unprivileged user past pipe-user-pages-soft gets.
  const std::size_t pipe_bytes = GENERATE(PipePool::kPipeBytes, std::size_t{8192});
  RelayRig rig(std::chrono::milliseconds(0), Transport::tcp_loopback, {}, pipe_bytes);
  auto& [loop, poller, client, backend, pipes, result, relay] = rig;
  // Small send buffers on the relay's sockets and slow readers, so the relay's writes keep meeting full
  // sockets and must wait for output edges. (Tiny receive buffers would not do: with loopback's 64 KiB MSS
  // the window then opens only on the delayed-ACK timer.)
  for (int fd : {client.inner, backend.inner}) {
    const int bytes = 16384;
    REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) == 0);
  }
  relay->start();
  std::uint32_t state = 12345;  // a fixed sequence: a failure can be replayed
  auto next = [&state](std::uint32_t bound) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % bound;
  };
  std::string up, down;
  for (int flight = 0; flight < 60; ++flight) {
    const std::size_t size = next(4) == 0 ? 1 + next(200000) : 1 + next(3000);
    std::string& stream = next(2) == 0 ? up : down;
    for (std::size_t i = 0; i < size; ++i) stream.push_back(static_cast<char>('A' + next(26)));
  }
  std::size_t up_sent = 0, down_sent = 0;
  std::string up_got, down_got;
  auto move = [&](int from, const std::string& data, std::size_t& sent, int to, std::string& got) {
    if (sent < data.size()) {
      const std::size_t chunk = std::min<std::size_t>(data.size() - sent, 1 + next(70000));
      ssize_t n = ::send(from, data.data() + sent, chunk, MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
    if (next(3) != 0) return;  // the reader is slower than the writer
    char buf[65536];
    ssize_t n = ::recv(to, buf, 1 + next(sizeof buf - 1), MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  };
  for (int i = 0; i < 100000 && (up_got.size() < up.size() || down_got.size() < down.size()); ++i) {
    move(client.outer, up, up_sent, backend.outer, up_got);
    move(backend.outer, down, down_sent, client.outer, down_got);
    if (next(20) == 0)
      loop->run_for(std::chrono::milliseconds(1));  // now and then the relay gets ahead of both ends
    else
      loop->run_one_turn(0);
  }
  REQUIRE(up_got.size() == up.size());
  REQUIRE(down_got.size() == down.size());
  CHECK(up_got == up);
  CHECK(down_got == down);
  ::shutdown(client.outer, SHUT_WR);
  ::shutdown(backend.outer, SHUT_WR);
  rig.expect_closed(up.size(), down.size());
}
