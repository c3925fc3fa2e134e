#include "proxy/core/http_host.hpp"

#include <algorithm>

namespace sixgate::proxy {
namespace {

// RFC 9110 §5.6.2 tchar.
bool tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), tchar);
}

bool visible(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b > 0x20 && b != 0x7f;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x) == y;
         });
}

bool port(std::string_view s) {  // empty is allowed by RFC 3986 ("host:")
  return s.size() <= 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         (s.empty() || std::stoul(std::string(s)) <= 65535);
}

}  // namespace

HttpHostParser::HttpHostParser(std::size_t max_head_bytes) : max_head_bytes_(max_head_bytes) {}

void HttpHostParser::fail(std::string_view reason) {
  state_ = State::failed;
  failure_reason_ = reason;
  host_.clear();
}

HttpHostParser::State HttpHostParser::feed(std::span<const std::uint8_t> bytes) {
  for (std::uint8_t b : bytes) {
    if (state_ != State::need_more) break;
    if (++consumed_ > max_head_bytes_) {
      fail("too_large");
      break;
    }
    const char c = static_cast<char>(b);
    if (after_cr_) {
      after_cr_ = false;
      if (c != '\n') {
        fail("bad_line_end");
        break;
      }
      on_line();
      line_.clear();
    } else if (c == '\r') {
      after_cr_ = true;
    } else if (c == '\n') {
      fail("bad_line_end");
    } else {
      line_.push_back(c);
    }
  }
  return state_;
}

void HttpHostParser::on_line() {
  if (!request_line_seen_) return on_request_line();
  if (line_.empty()) {  // the blank line that ends the head
    if (!host_seen_) return fail("no_host");
    state_ = State::done;
    return;
  }
  on_header_line();
}

// method SP request-target SP HTTP-version (RFC 9112 §3).
void HttpHostParser::on_request_line() {
  request_line_seen_ = true;
  const std::string_view line = line_;
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail("bad_request_line");
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return fail("bad_request_line");
  const auto method = line.substr(0, sp1);
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (!token(method) || target.empty() || !std::all_of(target.begin(), target.end(), visible)) {
    return fail("bad_request_line");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return fail("bad_request_line");
  if (target[0] != '/' && target != "*") return fail("unsupported_target");
}

// field-name ":" OWS field-value OWS (RFC 9112 §5); only Host is looked at beyond its syntax.
void HttpHostParser::on_header_line() {
  const std::string_view line = line_;
  if (line[0] == ' ' || line[0] == '\t') return fail("obs_fold");
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || !token(line.substr(0, colon))) return fail("bad_header");
  std::string_view value = line.substr(colon + 1);
  for (char c : value) {
    const auto b = static_cast<unsigned char>(c);
    if ((b < 0x20 && c != '\t') || b == 0x7f) return fail("bad_header");
  }
  if (!iequals(line.substr(0, colon), "host")) return;
  if (host_seen_) return fail("duplicate_host");
  host_seen_ = true;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || !std::all_of(value.begin(), value.end(), visible)) return fail("bad_host");
  std::string_view host = value;
  std::string_view rest;
  if (value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos || close == 1) return fail("bad_host");
    host = value.substr(1, close - 1);
    rest = value.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return fail("bad_host");
  } else {
    const auto c = value.find(':');
    host = value.substr(0, c);
    rest = c == std::string_view::npos ? std::string_view() : value.substr(c);
  }
  if (!rest.empty() && !port(rest.substr(1))) return fail("bad_host");
  if (host.empty()) return fail("bad_host");
  host_ = std::string(host);
}

}  // namespace sixgate::proxy
