#pragma once
// RouterOS v7 REST client (libcurl + nlohmann/json), following /work/shared/routeros/README.md.
//
// Transport security, chosen explicitly:
//  - `fingerprint_sha256` pins the SHA-256 of the server's leaf certificate (DER), the same value RouterOS
//  shows
//    as the certificate's fingerprint and `openssl x509 -noout -fingerprint -sha256` prints (hex, colons and
//    case ignored). The pin is checked during the TLS handshake, before any request (and its credentials) is
//    sent. Pinning replaces CA and host-name verification unless `ca_file` is also set, then both must hold.
//  - `ca_file` alone: normal chain + host-name verification against that CA bundle.
//  - neither: the system CA store. `insecure` turns every check off and must be asked for explicitly.
//  - Any TLS failure reports the SHA-256 fingerprint the server presented, so the operator can pin it.
//
// Retries: only GET and DELETE are retried (capped exponential backoff with full jitter), and only on
// transport errors, 5xx and the "Session closed" 400. PUT/PATCH/POST are sent once, each on a fresh
// connection (libcurl would otherwise resend one whose reused connection closed without a reply, repeating a
// write the router may have applied); after any error the caller re-reads.
//
// Threading: one request at a time per Client (RouterOS serialises REST requests anyway). Every public call
// takes an internal mutex, so one Client may be shared between threads; calls then simply wait for each
// other.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/types.hpp"
#include "common/result.hpp"

namespace sixgate::agent::routeros {

using sixgate::agent::RosObject;

struct ClientOptions {
  std::string base_url;  // "https://192.0.2.1" or "https://router:8443"; http:// works (logged warning)
  std::string ca_file;   // PEM bundle to verify the router's certificate against
  std::string fingerprint_sha256;  // pin: hex SHA-256 of the server certificate (DER); colons optional
  bool insecure = false;           // no verification at all; explicit only
  std::chrono::milliseconds timeout{10000};  // whole request; connecting is bounded by min(timeout, 5 s)
  int max_retries = 3;                       // extra attempts for retryable requests (0 = try once)
  std::chrono::milliseconds backoff_base{200}, backoff_cap{5000};
};

struct Credentials {
  std::string user, password;
};

// `file_or_empty`: a file holding "user\npassword\n" or "user:password" (trailing newline optional). The file
// must not be readable or writable by group/other (chmod 600), else a clear error. Empty: the environment
// variables SIXGATE_ROUTER_USER and SIXGATE_ROUTER_PASSWORD.
Result<Credentials> load_credentials(const std::string& file_or_empty);

class Client {
 public:
  Client(ClientOptions options, Credentials credentials);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // `menu` is the console path with or without slashes: "ipv6/firewall/mangle" or "/ipv6/firewall/mangle".
  Result<std::vector<RosObject>> list(std::string_view menu);         // GET /rest/<menu> -> array
  Result<RosObject> get(std::string_view menu, std::string_view id);  // GET /rest/<menu>/<id or name>
  Result<RosObject> singleton(std::string_view menu);                 // object or one-element array
  // PUT: returns the created object (with ".id"). Any 2xx is success. Never retried.
  Result<RosObject> add(std::string_view menu, const RosObject& fields);
  // PATCH: returns the full updated object. Never retried.
  Result<RosObject> set(std::string_view menu, std::string_view id, const RosObject& fields);
  // DELETE. Idempotent: a 404 (already gone) counts as success, which also makes a retry after a lost reply
  // safe.
  Status remove(std::string_view menu, std::string_view id);
  // POST /rest/<menu>/move {"numbers":"*A,*B","destination":"*C"}; empty destination = move to the end. Not
  // retried.
  Status move(std::string_view menu, const std::vector<std::string>& ids, std::string_view destination);

  // Makes the request in progress fail within about a second (libcurl's progress callback), cuts a retry
  // backoff short, and fails every later call at once. For shutdown: a stopping daemon must not wait for a
  // slow router. Thread-safe; does not wait for the request in progress.
  void abort();

  // HTTP requests put on the wire (each retry counts).
  std::uint64_t requests_sent() const;
  // HTTP status of the most recent response, 0 when the last attempt got none (transport error).
  // Lets a caller tell "not found" (404) from other failures without parsing messages.
  int last_http_status() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sixgate::agent::routeros
