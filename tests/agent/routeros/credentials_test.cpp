#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/routeros/client.hpp"

using namespace sixgate;
using namespace sixgate::agent::routeros;

namespace {

struct TempFile {
  std::filesystem::path path;
  TempFile(const std::string& content, mode_t mode) {
    char tmpl[] = "/tmp/sgag-cred-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = tmpl;
    std::ofstream(path, std::ios::binary) << content;
    REQUIRE(::chmod(tmpl, mode) == 0);
  }
  ~TempFile() { std::filesystem::remove(path); }
};

struct EnvGuard {
  EnvGuard() { clear(); }
  ~EnvGuard() { clear(); }
  static void clear() {
    ::unsetenv("SIXGATE_ROUTER_USER");
    ::unsetenv("SIXGATE_ROUTER_PASSWORD");
  }
};

}  // namespace

TEST_CASE("credentials file: two lines or user:password", "[routeros][credentials]") {
  TempFile two_lines("sixgate\npass word:with colon\n", 0600);
  auto c = load_credentials(two_lines.path);
  REQUIRE(c.ok());
  CHECK(c->user == "sixgate");
  CHECK(c->password == "pass word:with colon");

  TempFile one_line("api:p@ss:x\r\n", 0400);
  auto d = load_credentials(one_line.path);
  REQUIRE(d.ok());
  CHECK(d->user == "api");
  CHECK(d->password == "p@ss:x");
}

TEST_CASE("credentials file readable by group or others is refused", "[routeros][credentials]") {
  for (mode_t mode : {0640, 0604, 0660, 0602}) {
    TempFile f("u\np\n", mode);
    auto c = load_credentials(f.path);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().message.find("chmod 600") != std::string::npos);
    CHECK(c.error().message.find("p\n") == std::string::npos);
  }
}

TEST_CASE("credentials file errors never show the password", "[routeros][credentials]") {
  TempFile nothing("justoneword\n", 0600);
  auto c = load_credentials(nothing.path);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message.find("justoneword") == std::string::npos);
  TempFile three("u\np\nextra\n", 0600);
  CHECK_FALSE(load_credentials(three.path).ok());
  TempFile empty_user(":secret\n", 0600);
  auto e = load_credentials(empty_user.path);
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().message.find("secret") == std::string::npos);
  auto missing = load_credentials("/nonexistent/sgag-creds");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/nonexistent/sgag-creds") != std::string::npos);
}

TEST_CASE("credentials from the environment when no file is given", "[routeros][credentials]") {
  EnvGuard guard;
  auto none = load_credentials("");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("SIXGATE_ROUTER_USER") != std::string::npos);
  ::setenv("SIXGATE_ROUTER_USER", "envuser", 1);
  auto no_password = load_credentials("");
  REQUIRE_FALSE(no_password.ok());
  CHECK(no_password.error().message.find("SIXGATE_ROUTER_PASSWORD") != std::string::npos);
  ::setenv("SIXGATE_ROUTER_PASSWORD", "envpass", 1);
  auto c = load_credentials("");
  REQUIRE(c.ok());
  CHECK(c->user == "envuser");
  CHECK(c->password == "envpass");
}
