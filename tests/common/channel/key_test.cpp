#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "common/channel/key.hpp"

using namespace sixgate::channel;

namespace {

struct TempFile {
  std::string path;
  TempFile(const std::string& content, mode_t mode) {
    char tmpl[] = "/tmp/sgch-key-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    path = tmpl;
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

const std::string kHex64 = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";

}  // namespace

TEST_CASE("key: 64 hex digits with surrounding whitespace") {
  auto key = SiteKey::from_hex("  " + kHex64 + "\n");
  REQUIRE(key.ok());
  REQUIRE(key->bytes().size() == 32);
  CHECK(key->bytes()[1] == 0x11);
  CHECK(key->bytes()[31] == 0xff);
}

TEST_CASE("key: too short, odd length and non-hex are refused") {
  CHECK_FALSE(SiteKey::from_hex(kHex64.substr(0, 62)).ok());
  CHECK_FALSE(SiteKey::from_hex(kHex64 + "a").ok());
  auto bad = kHex64;
  bad[10] = 'g';
  auto r = SiteKey::from_hex(bad);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("offset 10") != std::string::npos);
  CHECK_FALSE(SiteKey::from_hex("").ok());
}

TEST_CASE("key file: mode 0600 loads, group or other bits are refused") {
  TempFile good(kHex64 + "\n", 0600);
  CHECK(load_key_file(good.path).ok());
  TempFile readonly(kHex64, 0400);
  CHECK(load_key_file(readonly.path).ok());
  for (mode_t mode : {0640, 0604, 0660, 0644, 0610}) {
    TempFile bad(kHex64, mode);
    auto r = load_key_file(bad.path);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("chmod 600") != std::string::npos);
    CHECK(r.error().message.find(bad.path) != std::string::npos);
  }
}

TEST_CASE("key file: missing file, directory, symlink and short content name the path") {
  auto missing = load_key_file("/nonexistent/sgch.key");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("/nonexistent/sgch.key") != std::string::npos);
  CHECK_FALSE(load_key_file("/tmp").ok());

  TempFile target(kHex64, 0600);
  std::string link = target.path + ".link";
  REQUIRE(::symlink(target.path.c_str(), link.c_str()) == 0);
  CHECK_FALSE(load_key_file(link).ok());
  ::unlink(link.c_str());

  TempFile short_key("abcd", 0600);
  CHECK_FALSE(load_key_file(short_key.path).ok());
}
