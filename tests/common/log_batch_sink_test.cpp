#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include <spdlog/logger.h>
#include "common/log_batch_sink.hpp"

using sixgate::log::LineBatchSink;

namespace {

// A pipe whose read end never blocks, so "nothing written yet" is a read that finds nothing.
struct Pipe {
  int read_end = -1, write_end = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~Pipe() {
    ::close(read_end);
    ::close(write_end);
  }
  std::string drain() const {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(read_end, buf, sizeof buf)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

struct Loggers {
  std::shared_ptr<LineBatchSink> sink;
  spdlog::logger access, events;
  Loggers(int fd, std::size_t batch_bytes, const char* batched = "access")
      : sink(std::make_shared<LineBatchSink>(fd, batched, batch_bytes)),
        access("access", sink),
        events("events", sink) {
    access.set_pattern("%v");
    events.set_pattern("%v");
  }
};

}  // namespace

TEST_CASE("batched lines wait; a line of another logger writes them first, in order") {
  Pipe p;
  Loggers l(p.write_end, 4096);
  l.access.info("a1");
  l.access.info("a2");
  CHECK(p.drain().empty());
  l.events.info("e1");
  CHECK(p.drain() == "a1\na2\ne1\n");
  l.events.warn("e2");
  CHECK(p.drain() == "e2\n");
}

TEST_CASE("batched lines are written once the batch size has gathered, or on flush") {
  Pipe p;
  Loggers l(p.write_end, 10);
  l.access.info("1234");
  CHECK(p.drain().empty());
  l.access.info("5678");  // 10 bytes with the newlines
  CHECK(p.drain() == "1234\n5678\n");
  l.access.info("x");
  CHECK(p.drain().empty());
  l.access.flush();
  CHECK(p.drain() == "x\n");
  l.access.flush();  // nothing left: writes nothing
  CHECK(p.drain().empty());
}

TEST_CASE("the last gathered lines are written when the sink goes away") {
  Pipe p;
  {
    Loggers l(p.write_end, 4096);
    l.access.info("last");
  }
  CHECK(p.drain() == "last\n");
}

TEST_CASE("without a batched logger every line is written at once") {
  Pipe p;
  Loggers l(p.write_end, 4096, "");
  l.access.info("a");
  CHECK(p.drain() == "a\n");
}

TEST_CASE("bytes the descriptor refuses are counted, not retried forever") {
  const int read_only = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(read_only >= 0);
  {
    Loggers l(read_only, 4096);
    l.events.info("lost");
    CHECK(l.sink->dropped_bytes() == 5);
  }
  ::close(read_only);
}
