#include "agent/routeros/certificate_check.hpp"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>

namespace sixgate::agent::routeros {
namespace {

std::string to_hex(const unsigned char* data, unsigned int len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xF];
  }
  return out;
}

// Replaces OpenSSL's chain verification for the connection: hash the leaf, compare with the pin, then (when
// asked) run the normal verification.
int verify_certificate(X509_STORE_CTX* store, void* arg) {
  auto* check = static_cast<CertificateCheck*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  if (leaf != nullptr) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(leaf, EVP_sha256(), md, &len) == 1) check->seen = to_hex(md, len);
  }
  if (!check->pin.empty()) {
    if (check->seen != check->pin) {
      check->pin_mismatch = true;
      return 0;
    }
    if (!check->verify_chain) return 1;
  }
  return X509_verify_cert(store);
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* arg) {
  auto* check = static_cast<CertificateCheck*>(arg);
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  SSL_CTX_set_cert_verify_callback(ctx, verify_certificate, check);
  // With only a pin, curl runs with peer verification off, and OpenSSL ignores a failed verification in
  // SSL_VERIFY_NONE mode: make the handshake fail on it.
  if (!check->pin.empty()) SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return CURLE_OK;
}

}  // namespace

Result<std::string> normalize_fingerprint(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return make_error("certificate fingerprint: '" + std::string(1, c) +
                        "' is not a hex digit (expected the SHA-256 of the certificate, 64 hex digits)");
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.size() != 64)
    return make_error("certificate fingerprint: " + std::to_string(out.size()) +
                      " hex digits, a SHA-256 fingerprint has 64");
  return out;
}

Status install_certificate_check(CURL* curl, CertificateCheck* check) {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  std::string_view backend = info->ssl_version ? info->ssl_version : "";
  if (backend.find("OpenSSL") == std::string_view::npos)
    return make_error("certificate pinning needs libcurl built with OpenSSL; this one uses \"" +
                      std::string(backend) + "\"");
  if (curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK ||
      curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, check) != CURLE_OK)
    return make_error("certificate pinning: libcurl does not support CURLOPT_SSL_CTX_FUNCTION");
  return ok_status();
}

}  // namespace sixgate::agent::routeros
