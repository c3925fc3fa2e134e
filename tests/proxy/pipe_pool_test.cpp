// The pipe pool keeps only pipes as large as the largest it has had. An unprivileged user past
// fs.pipe-user-pages-soft gets 2-page pipes that cannot be enlarged; pooled, they would be handed out again
// long after the peak that made them.
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <vector>

#include "proxy/pipe_pool.hpp"
#include "tests/proxy/child_process.hpp"

using namespace sixgate::proxy;
using sixgate::proxy::test::run_in_child;

namespace {

// The pipe limits spare a process with CAP_SYS_RESOURCE or CAP_SYS_ADMIN; this one gives both up.
bool drop_pipe_privileges() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  for (unsigned cap : {CAP_SYS_RESOURCE, CAP_SYS_ADMIN}) data[cap / 32].effective &= ~(1u << (cap % 32));
  return ::syscall(SYS_capset, &header, data) == 0;
}

enum Outcome : int {
  kPassed = 0,
  kNoLimitHere = sixgate::proxy::test::kChildSkipped,  // the user already had small pipes, or no limit
  kCannotDrop = 10,
  kNoPipe = 11,
  kSmallOnePooled = 12,
  kSmallOneHandedOut = 13,
};

// In a child, without the privileges: takes pipes until the kernel hands out a small one, gives two large
// ones and then the small one back, and checks what the pool kept and hands out next.
Outcome pool_after_the_limit() {
  if (!drop_pipe_privileges()) return kCannotDrop;
  PipePool pool;
  std::vector<Pipe> held;
  for (int i = 0; i < 200; ++i) {
    auto p = pool.take();
    if (!p) return kNoPipe;
    held.push_back(*p);
    if (p->capacity < held.front().capacity) break;
  }
  if (held.front().capacity < PipePool::kPipeBytes || held.back().capacity == held.front().capacity ||
      held.size() < 3)
    return kNoLimitHere;
  const Pipe small = held.back();
  held.pop_back();
  pool.give(held[0]);
  pool.give(held[1]);
  pool.give(small);  // last in: a pool that kept it would hand it out first
  if (pool.spare() != 2) return kSmallOnePooled;
  auto next = pool.take();
  if (!next || next->capacity != held.front().capacity) return kSmallOneHandedOut;
  return kPassed;
}

}  // namespace

TEST_CASE("pipe pool: a pipe smaller than the largest it has had is closed, not kept") {
  std::ifstream soft_limit("/proc/sys/fs/pipe-user-pages-soft");
  long pages = 0;
  REQUIRE(soft_limit >> pages);
  if (pages == 0) {
    WARN("fs.pipe-user-pages-soft is 0 (no limit): nothing to provoke here");
    return;
  }
  const int outcome = run_in_child([](int) { return pool_after_the_limit(); }).exit_code;
  if (outcome == kNoLimitHere) {
    WARN("the kernel handed out no smaller pipe: nothing to check here");
    return;
  }
  CHECK(outcome == kPassed);  // 12: the small pipe was pooled; 13: it was handed out again
}

TEST_CASE("pipe pool: spares are reused, up to kMaxSpare") {
  PipePool pool;
  std::vector<Pipe> taken;
  for (std::size_t i = 0; i < PipePool::kMaxSpare + 2; ++i) {
    auto p = pool.take();
    REQUIRE(p.has_value());
    taken.push_back(*p);
  }
  CHECK(pool.opened() == PipePool::kMaxSpare + 2);
  for (const Pipe& p : taken) pool.give(p);
  CHECK(pool.spare() == PipePool::kMaxSpare);
  auto again = pool.take();
  REQUIRE(again.has_value());
  CHECK(pool.opened() == PipePool::kMaxSpare + 2);  // no new pipe
  close_pipe(*again);
}
