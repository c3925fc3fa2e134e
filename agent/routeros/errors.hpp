#pragma once
// What a failed RouterOS request tells the operator: the request, what the router said (bounded), and what to
// do.
#include <string>
#include <string_view>

namespace sixgate::agent::routeros {

// "GET /rest/ip/route" style label used in every message.
std::string request_label(std::string_view method, std::string_view path);

// True for the 400 a command over 60 s gets: {"detail":"Session closed","error":400,...}.
bool is_session_closed(int http_status, std::string_view body);

// Message for a non-2xx HTTP reply. Quotes the router's "message" and "detail" (bounded), adds a hint.
std::string describe_http_error(std::string_view method, std::string_view path, int http_status,
                                std::string_view body);

enum class TransportFailure {
  connect,  // refused, unreachable, DNS
  timeout,  // connect or total timeout
  tls,      // handshake or certificate verification
  pin,      // certificate fingerprint does not match the pin
  other,
};

// Message for a request that got no HTTP reply. `seen_fingerprint` (hex SHA-256 of the certificate the server
// presented, may be empty) is shown for TLS failures so the operator can pin it.
std::string describe_transport_error(std::string_view method, std::string_view path,
                                     std::string_view base_url, TransportFailure kind,
                                     std::string_view curl_message, std::string_view seen_fingerprint);

}  // namespace sixgate::agent::routeros
