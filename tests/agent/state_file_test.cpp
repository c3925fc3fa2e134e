#include "agent/state_file.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace sixgate;
using namespace sixgate::agent;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/sgag-state-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("state file: remembered prefixes round-trip, ended ones are dropped") {
  TempDir dir;
  auto none = load_remembered_prefixes(dir.path);
  REQUIRE(none.ok());
  CHECK(none->empty());

  std::vector<PrefixObservation> in{
      {Ipv6Prefix::parse("2001:db8:1200::/56").value(), 3600s, 1800s, "remembered"},
      {Ipv6Prefix::parse("2001:db8:3400::/56").value(), 0s, 0s, "remembered"},
  };
  REQUIRE(save_remembered_prefixes(dir.path, in).ok());
  auto out = load_remembered_prefixes(dir.path);
  REQUIRE(out.ok());
  REQUIRE(out->size() == 1);
  CHECK((*out)[0].prefix.to_string() == "2001:db8:1200::/56");
  CHECK((*out)[0].valid_lifetime <= 3600s);
  CHECK((*out)[0].valid_lifetime > 3500s);
  CHECK((*out)[0].preferred_lifetime <= 1800s);
  CHECK_FALSE(std::filesystem::exists(prefix_state_path(dir.path) + ".tmp"));
}

TEST_CASE("state file: a damaged file is an error naming it") {
  TempDir dir;
  {
    std::ofstream f(prefix_state_path(dir.path));
    f << "{\"version\":1,\"prefixes\":[{\"prefix\":\"nope\"}]}";
  }
  auto r = load_remembered_prefixes(dir.path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("prefixes.json") != std::string::npos);
  {
    std::ofstream f(prefix_state_path(dir.path));
    f << "not json";
  }
  CHECK_FALSE(load_remembered_prefixes(dir.path).ok());
}

TEST_CASE("state file: an unwritable directory is an error") {
  CHECK_FALSE(save_remembered_prefixes("/nonexistent/sixgate", {}).ok());
}
