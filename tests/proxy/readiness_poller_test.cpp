// The worker's edge-triggered epoll set: a socket that is already ready is reported when it joins, every new
// arrival raises a new edge, and a forgotten token gets no more calls, not even for an event collected in the
// same turn.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <optional>
#include <vector>

#include "proxy/readiness_poller.hpp"

using namespace sixgate::proxy;

namespace {

struct SocketPair {
  int a = -1, b = -1;
  SocketPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

struct Call {
  std::uint32_t tag;
  std::uint32_t events;
};

class Recorder : public ReadinessPoller::Listener {
 public:
  std::vector<Call> calls;
  std::function<void()> on_call;
  void on_ready(std::uint32_t tag, std::uint32_t events) override {
    calls.push_back({tag, events});
    if (on_call) on_call();
  }
};

void turn(ReadinessPoller& poller) {
  poller.turn(20);
}

void drain(int fd) {
  char buf[256];
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

}  // namespace

TEST_CASE("poller: joining reports a ready socket at once, then one call per new arrival") {
  auto poller = ReadinessPoller::create().value();
  SocketPair pair;
  auto recorder = std::make_shared<Recorder>();
  REQUIRE(::send(pair.a, "x", 1, 0) == 1);
  auto token = poller->watch(pair.b, recorder, 7);
  REQUIRE(token.ok());
  CHECK(poller->watched() == 1);
  turn(*poller);
  REQUIRE(recorder->calls.size() == 1);
  CHECK(recorder->calls[0].tag == 7);
  CHECK((recorder->calls[0].events & EPOLLIN) != 0);
  CHECK((recorder->calls[0].events & EPOLLOUT) != 0);

  turn(*poller);  // edge-triggered: nothing new, no call, although the byte is still unread
  CHECK(recorder->calls.size() == 1);

  drain(pair.b);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(::send(pair.a, "y", 1, 0) == 1);
    turn(*poller);
    REQUIRE(recorder->calls.size() == static_cast<std::size_t>(2 + i));
    CHECK((recorder->calls.back().events & EPOLLIN) != 0);
    drain(pair.b);
  }

  ::shutdown(pair.a, SHUT_WR);
  turn(*poller);
  REQUIRE(recorder->calls.size() == 5);
  CHECK((recorder->calls.back().events & EPOLLRDHUP) != 0);
}

TEST_CASE("poller: a socket that joins during a turn is reported in that turn, not on the next one") {
  // As an accepted client or a backend whose connect() finished inside the call: ready when it joins.
  auto poller = ReadinessPoller::create().value();
  SocketPair first, joining;
  auto one = std::make_shared<Recorder>(), two = std::make_shared<Recorder>();
  REQUIRE(poller->watch(first.b, one, 1).ok());
  turn(*poller);  // the joining report (writable)
  REQUIRE(one->calls.size() == 1);
  one->on_call = [&] {
    REQUIRE(poller->watch(joining.b, two, 2, ReadinessPoller::FirstReport::this_turn).ok());
  };
  REQUIRE(::send(first.a, "x", 1, 0) == 1);
  // One turn wakes for `first` and must also deliver the socket that joined meanwhile before it returns.
  CHECK(poller->turn(1000) == 2);
  REQUIRE(one->calls.size() == 2);
  REQUIRE(two->calls.size() == 1);
  CHECK(two->calls[0].tag == 2);
  CHECK((two->calls[0].events & EPOLLOUT) != 0);
}

TEST_CASE("poller: by default a socket that joins during a turn is reported on the next turn") {
  // As an accepted client: no extra epoll_wait for a socket that is rarely ready yet.
  auto poller = ReadinessPoller::create().value();
  SocketPair first, joining;
  auto one = std::make_shared<Recorder>(), two = std::make_shared<Recorder>();
  REQUIRE(poller->watch(first.b, one, 1).ok());
  turn(*poller);
  one->on_call = [&] { REQUIRE(poller->watch(joining.b, two, 2).ok()); };
  REQUIRE(::send(first.a, "x", 1, 0) == 1);
  CHECK(poller->turn(1000) == 1);
  CHECK(two->calls.empty());
  CHECK(poller->turn(1000) == 1);
  REQUIRE(two->calls.size() == 1);
  CHECK((two->calls[0].events & EPOLLOUT) != 0);
}

TEST_CASE("poller: a forgotten token gets no call, even for an event collected in the same turn") {
  auto poller = ReadinessPoller::create().value();
  SocketPair first, second, third;
  auto one = std::make_shared<Recorder>(), two = std::make_shared<Recorder>(),
       three = std::make_shared<Recorder>();
  auto token_one = poller->watch(first.b, one, 1).value();
  auto token_two = poller->watch(second.b, two, 2).value();
  // Both are ready in the same turn. Whichever is called first forgets the other and gives its slot to a
  // third socket: the other's event, already collected, must reach neither of them.
  std::optional<ReadinessPoller::Token> forgotten, token_three;
  auto take_over = [&](ReadinessPoller::Token other) {
    if (forgotten) return;
    forgotten = other;
    poller->forget(other);
    token_three = poller->watch(third.b, three, 3).value();
  };
  one->on_call = [&] { take_over(token_two); };
  two->on_call = [&] { take_over(token_one); };
  turn(*poller);
  CHECK(one->calls.size() + two->calls.size() == 1);
  REQUIRE(token_three.has_value());
  CHECK(static_cast<std::uint32_t>(*token_three) == static_cast<std::uint32_t>(*forgotten));  // same slot
  CHECK(*token_three != *forgotten);
  CHECK(poller->watched() == 2);
  // The third socket's own first report comes in its turn, with its own tag.
  for (const auto& c : three->calls) CHECK(c.tag == 3);
  turn(*poller);
  CHECK(three->calls.size() == 1);

  poller->forget(*forgotten);  // stale: no effect on the slot's new owner
  CHECK(poller->watched() == 2);
  REQUIRE(::send(third.a, "x", 1, 0) == 1);
  turn(*poller);
  CHECK(three->calls.size() == 2);
}

TEST_CASE("poller: the poller holds its listeners until forget(), not longer") {
  auto poller = ReadinessPoller::create().value();
  SocketPair pair;
  auto recorder = std::make_shared<Recorder>();
  std::weak_ptr<Recorder> watch_it = recorder;
  auto token = poller->watch(pair.b, std::move(recorder), 0).value();
  turn(*poller);
  REQUIRE_FALSE(watch_it.expired());
  CHECK(watch_it.lock()->calls.size() == 1);
  poller->forget(token);
  CHECK(watch_it.expired());
  CHECK(poller->watched() == 0);
  REQUIRE(::send(pair.a, "z", 1, 0) == 1);  // an edge for the forgotten token: collected and dropped
  turn(*poller);
}

TEST_CASE("poller: a socket that cannot join is an error value, and its slot is free again") {
  auto poller = ReadinessPoller::create().value();
  auto recorder = std::make_shared<Recorder>();
  auto bad = poller->watch(-1, recorder, 0);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("epoll_ctl") != std::string::npos);
  CHECK(poller->watched() == 0);
}

TEST_CASE(
    "poller: a handed-over token calls its new listener, also for an event collected in the same turn") {
  auto poller = ReadinessPoller::create().value();
  SocketPair first, second;
  auto before = std::make_shared<Recorder>(), after = std::make_shared<Recorder>();
  std::weak_ptr<Recorder> before_alive = before;
  auto token_first = poller->watch(first.b, before, 1).value();
  auto token_second = poller->watch(second.b, before, 2).value();
  turn(*poller);  // the joins' own reports
  REQUIRE(before->calls.size() == 2);
  REQUIRE(::send(first.a, "x", 1, 0) == 1);
  REQUIRE(::send(second.a, "x", 1, 0) == 1);
  // Both arrivals come in one turn; the first call hands both sockets over, so the second event, already
  // collected, goes to the new owner with its new tag.
  bool handed = false;
  before->on_call = [&] {
    if (handed) return;
    handed = true;
    poller->hand_over(token_first, after, 11);
    poller->hand_over(token_second, after, 12);
  };
  turn(*poller);
  CHECK(before->calls.size() == 3);
  REQUIRE(after->calls.size() == 1);
  CHECK((after->calls[0].tag == 11 || after->calls[0].tag == 12));
  before.reset();
  CHECK(before_alive.expired());  // the poller no longer holds the old owner
  CHECK(poller->watched() == 2);
  drain(first.b);
  drain(second.b);
  REQUIRE(::send(first.a, "y", 1, 0) == 1);
  turn(*poller);
  REQUIRE(after->calls.size() == 2);
  CHECK(after->calls[1].tag == 11);
}

TEST_CASE("poller: unwatch() takes a duplicated descriptor out of the set, which closing one copy does not") {
  auto poller = ReadinessPoller::create().value();
  SocketPair pair;
  // The kernel keys a set member by open file and descriptor number, and drops it only when the file's last
  // descriptor closes: pair.b keeps the file open here. A new copy of the same file under the same number
  // can join again only if the old member is really gone (EEXIST otherwise).
  const int copy = ::dup(pair.b);
  REQUIRE(copy >= 0);
  auto recorder = std::make_shared<Recorder>();
  auto token = poller->watch(copy, recorder, 1).value();
  turn(*poller);
  REQUIRE(recorder->calls.size() == 1);
  poller->unwatch(token, copy);
  ::close(copy);
  CHECK(poller->watched() == 0);
  const int same_number = ::dup(pair.b);  // the lowest free number: the one just closed
  REQUIRE(same_number == copy);
  auto again = poller->watch(same_number, recorder, 2);
  CHECK(again.ok());
  if (again) poller->unwatch(*again, same_number);
  ::close(same_number);
}

TEST_CASE("readiness: each report sets what it implies and clears nothing") {
  Readiness r;
  r.note(EPOLLIN);
  CHECK((r.readable && !r.writable && !r.peer_closed));
  r.note(EPOLLOUT);
  CHECK((r.readable && r.writable && !r.peer_closed));

  // A hang-up or error makes the socket readable (the read reports EOF or the error) and, for error and full
  // hang-up, writable (the write reports it); a half-close (RDHUP) leaves writing as it was.
  Readiness half;
  half.note(EPOLLRDHUP);
  CHECK((half.readable && half.peer_closed && !half.writable));
  for (std::uint32_t bits : {std::uint32_t{EPOLLHUP}, std::uint32_t{EPOLLERR}}) {
    Readiness gone;
    gone.note(bits);
    CHECK((gone.readable && gone.writable && gone.peer_closed));
  }

  Readiness used{.readable = false, .writable = true, .peer_closed = false};
  used.note(EPOLLIN);
  CHECK(used.writable);  // a report adds; only the owner's EAGAIN takes away
}

TEST_CASE("poller: a level-triggered socket is reported on every turn while its events hold, as set") {
  // As c-ares' sockets: someone else reads them and may leave bytes behind.
  auto poller = ReadinessPoller::create().value();
  SocketPair pair;
  auto recorder = std::make_shared<Recorder>();
  auto token = poller->watch_level(pair.b, EPOLLIN, recorder, 5).value();
  turn(*poller);
  CHECK(recorder->calls.empty());  // writable, but output was not asked for
  REQUIRE(::send(pair.a, "x", 1, 0) == 1);
  turn(*poller);
  turn(*poller);  // the byte is still unread: reported again
  REQUIRE(recorder->calls.size() == 2);
  CHECK(recorder->calls[1].tag == 5);
  CHECK((recorder->calls[1].events & EPOLLIN) != 0);
  CHECK((recorder->calls[1].events & EPOLLOUT) == 0);
  drain(pair.b);
  REQUIRE(poller->set_level_events(token, pair.b, EPOLLOUT));
  turn(*poller);
  REQUIRE(recorder->calls.size() == 3);
  CHECK((recorder->calls[2].events & EPOLLOUT) != 0);
  poller->unwatch(token, pair.b);
  turn(*poller);
  CHECK(recorder->calls.size() == 3);
}
