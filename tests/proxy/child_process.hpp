#pragma once
// Runs a check in a forked child, for checks that change what the whole process is (its capabilities, its
// network namespace). The child writes what went wrong to `report` and returns its exit code.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <string>

namespace sixgate::proxy::test {

constexpr int kChildSkipped = 77;  // the check cannot be made here; the child says why in its report

struct ChildResult {
  int exit_code = -1;
  std::string report;
};

inline ChildResult run_in_child(const std::function<int(int report)>& check) {
  int report[2];
  REQUIRE(::pipe(report) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(report[0]);
    ::_exit(check(report[1]));
  }
  ::close(report[1]);
  ChildResult result;
  char buf[512];
  for (ssize_t n; (n = ::read(report[0], buf, sizeof buf)) > 0;)
    result.report.append(buf, static_cast<std::size_t>(n));
  ::close(report[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  result.exit_code = WEXITSTATUS(status);
  return result;
}

}  // namespace sixgate::proxy::test
