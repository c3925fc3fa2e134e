#pragma once
// A fatal TLS alert record, sent in plaintext before any handshake (the version is TLS 1.0's, 0x0301, which
// every client accepts on a first record).
#include <array>
#include <cstdint>

namespace sixgate::proxy {

inline constexpr std::uint8_t kAlertHandshakeFailure = 40;
inline constexpr std::uint8_t kAlertInternalError = 80;
inline constexpr std::uint8_t kAlertUnrecognizedName = 112;

// {0x15 alert, 0x03 0x01, length 0x00 0x02, level 2 fatal, description}
constexpr std::array<std::uint8_t, 7> tls_alert(std::uint8_t description) {
  return {0x15, 0x03, 0x01, 0x00, 0x02, 0x02, description};
}

}  // namespace sixgate::proxy
