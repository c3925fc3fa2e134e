#include "agent/routeros/errors.hpp"

#include <nlohmann/json.hpp>

#include "agent/routeros/json_quirks.hpp"
#include "common/log.hpp"

namespace sixgate::agent::routeros {
namespace {

constexpr std::size_t kQuoteLimit = 200;

// The router's "message" and "detail", quoted; the raw body (bounded) when it is not the documented JSON.
std::string router_said(std::string_view body) {
  if (body.empty()) return "empty reply";
  auto j = nlohmann::json::parse(escape_control_chars_in_strings(body), nullptr, false);
  if (j.is_object() && (j.contains("message") || j.contains("detail"))) {
    std::string out = "router says";
    auto text = [&](const char* key) -> std::string {
      const auto& v = j[key];
      return log::bounded(v.is_string() ? v.get<std::string>() : v.dump(), kQuoteLimit);
    };
    if (j.contains("message")) out += " \"" + text("message") + "\"";
    if (j.contains("detail")) out += (j.contains("message") ? ": \"" : " \"") + text("detail") + "\"";
    return out;
  }
  return "reply \"" + log::bounded(body, kQuoteLimit) + "\"";
}

std::string hint_for_status(int status) {
  switch (status) {
    case 401:
      return "check the user name and password, and that the user's group has the rest-api policy (and read, "
             "plus "
             "write for changes)";
    case 403:
      return "the user is known but not allowed this: give its group the rest-api, read and write policies";
    case 404:
      return "no such item or menu: it may have been removed meanwhile, or this RouterOS version lacks the "
             "menu";
    case 406:
      return "the menu does not support this command";
    case 400:
      return "the router refused the request's content; compare the property names and values with this "
             "RouterOS version";
    default:
      if (status >= 500) return "router-side failure; retry later and check the router's log";
      return "unexpected reply";
  }
}

}  // namespace

std::string request_label(std::string_view method, std::string_view path) {
  return std::string(method) + " " + std::string(path);
}

bool is_session_closed(int http_status, std::string_view body) {
  if (http_status != 400) return false;
  auto j = nlohmann::json::parse(escape_control_chars_in_strings(body), nullptr, false);
  return j.is_object() && j.contains("detail") && j["detail"].is_string() &&
         j["detail"].get<std::string>() == "Session closed";
}

std::string describe_http_error(std::string_view method, std::string_view path, int http_status,
                                std::string_view body) {
  std::string msg = "RouterOS " + request_label(method, path) + ": HTTP " + std::to_string(http_status) +
                    ", " + router_said(body) + " — ";
  if (is_session_closed(http_status, body))
    msg += "the router cut a request that ran over 60 s; it is busy or the table is very large";
  else
    msg += hint_for_status(http_status);
  return msg;
}

std::string describe_transport_error(std::string_view method, std::string_view path,
                                     std::string_view base_url, TransportFailure kind,
                                     std::string_view curl_message, std::string_view seen_fingerprint) {
  std::string msg = "RouterOS " + request_label(method, path) + " to " + std::string(base_url) + ": ";
  std::string detail = log::bounded(curl_message, kQuoteLimit);
  switch (kind) {
    case TransportFailure::pin:
      msg += "the router's certificate does not match the pinned fingerprint; it presented SHA-256 " +
             std::string(seen_fingerprint) +
             " — if the router's certificate was replaced on purpose, pin this value";
      break;
    case TransportFailure::tls:
      msg += "TLS failed (" + detail + ")";
      if (!seen_fingerprint.empty())
        msg += "; the router presented a certificate with SHA-256 fingerprint " +
               std::string(seen_fingerprint) +
               " — pin it (fingerprint option) or give the CA file that signed it";
      else
        msg += " — check the CA file / fingerprint options and that www-ssl has a certificate";
      break;
    case TransportFailure::connect:
      msg += "cannot connect (" + detail +
             ") — is www-ssl enabled and reachable (ip service, firewall, address)?";
      break;
    case TransportFailure::timeout:
      msg += "no reply in time (" + detail +
             ") — is www-ssl enabled and reachable? a busy router may need a longer timeout";
      break;
    case TransportFailure::other:
      msg += detail;
      break;
  }
  return msg;
}

}  // namespace sixgate::agent::routeros
