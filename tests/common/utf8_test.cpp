#include <catch2/catch.hpp>
#include <string>

#include "common/utf8.hpp"

using sixgate::decode_utf8;

TEST_CASE("decode_utf8: well-formed characters of each length") {
  CHECK(decode_utf8("a").length == 1);
  CHECK(decode_utf8("\xc3\xa9x").length == 2);
  CHECK(decode_utf8("\xc3\xa9").code_point == 0xE9);
  CHECK(decode_utf8("\xe2\x80\xae").code_point == 0x202E);
  CHECK(decode_utf8("\xf0\x9f\x98\x80").length == 4);
  CHECK(decode_utf8("\xf4\x8f\xbf\xbf").code_point == 0x10FFFF);
}

TEST_CASE("decode_utf8: what is not well-formed has length 0") {
  for (std::string bad :
       {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
        "\xed\xbf\xbf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xc3",
        "\xe2\x80", "\xf0\x9f\x98", "\xc3\x41", "\xe2\x28\xa1"})
    CHECK(decode_utf8(bad).length == 0);
}
