#pragma once
// One well-formed UTF-8 character (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#include <cstddef>
#include <string_view>

namespace sixgate {

struct Utf8Char {
  std::size_t length = 0;  // bytes; 0 when `text` does not start with a well-formed character
  char32_t code_point = 0;
};

// The character at the start of `text` (which must not be empty).
Utf8Char decode_utf8(std::string_view text);

}  // namespace sixgate
