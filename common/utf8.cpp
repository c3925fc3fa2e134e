#include "common/utf8.hpp"

namespace sixgate {

Utf8Char decode_utf8(std::string_view text) {
  const auto lead = static_cast<unsigned char>(text[0]);
  if (lead < 0x80) return {1, lead};
  Utf8Char c;
  if (lead >= 0xC2 && lead <= 0xDF) {
    c = {2, static_cast<char32_t>(lead & 0x1F)};
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    c = {3, static_cast<char32_t>(lead & 0x0F)};
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    c = {4, static_cast<char32_t>(lead & 0x07)};
  } else {
    return {};
  }
  if (text.size() < c.length) return {};
  for (std::size_t i = 1; i < c.length; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte & 0xC0) != 0x80) return {};
    c.code_point = (c.code_point << 6) | (byte & 0x3F);
  }
  constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c.code_point < kSmallest[c.length] || c.code_point > 0x10FFFF ||
      (c.code_point >= 0xD800 && c.code_point <= 0xDFFF))
    return {};
  return c;
}

}  // namespace sixgate
