#pragma once
// Classifies a connection by its first bytes, before any parser runs.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace sixgate::proxy {

enum class Protocol { need_more, tls, postgres_ssl_request, http, unknown };

// PostgreSQL SSLRequest: length 8, code 80877103. The client then waits for one byte ('S') from the server
// before it sends its ClientHello.
inline constexpr std::array<std::uint8_t, 8> kPostgresSslRequest{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};

// tls: first byte 0x16 (handshake record). postgres_ssl_request: the first 8 bytes are kPostgresSslRequest
// (bytes after them are the caller's concern). http: an HTTP/1.x method (GET HEAD POST PUT DELETE OPTIONS
// PATCH CONNECT TRACE) followed by a space. need_more while the bytes so far are a proper prefix of one of
// these; unknown otherwise.
Protocol sniff(std::span<const std::uint8_t> first_bytes);

std::string_view to_string(Protocol p);

}  // namespace sixgate::proxy
