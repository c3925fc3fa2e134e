#pragma once
// Certificate pinning and fingerprint capture for libcurl's OpenSSL backend. During each TLS handshake the
// server's leaf certificate is hashed (SHA-256 over DER); with a pin, a different hash fails the handshake
// before any request is sent. The hash seen is kept so that any TLS error can show it to the operator.
#include <curl/curl.h>

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sixgate::agent::routeros {

// "AB:CD:…" / "abcd…" / with spaces → 64 lowercase hex digits; error when it is not a SHA-256 value.
Result<std::string> normalize_fingerprint(std::string_view text);

struct CertificateCheck {
  std::string pin;           // normalised; empty = no pin
  bool verify_chain = true;  // also run normal chain verification (CA file or system store)
  // Filled during the handshake:
  std::string seen;  // fingerprint of the leaf certificate the server presented
  bool pin_mismatch = false;
  void reset_observation() {
    seen.clear();
    pin_mismatch = false;
  }
};

// Hooks `check` into the handle (CURLOPT_SSL_CTX_FUNCTION); `check` must outlive every transfer on it.
// Fails when libcurl does not use OpenSSL.
Status install_certificate_check(CURL* curl, CertificateCheck* check);

}  // namespace sixgate::agent::routeros
