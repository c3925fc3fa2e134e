#pragma once
// Incremental HTTP/1.x request-head parser that finds the Host header, strictly:
// - lines end in CRLF; a bare LF or a CR not followed by LF fails ("bad_line_end"), so we never read a
//   different head than a strict backend would;
// - the request line is `method SP target SP HTTP/1.0|HTTP/1.1`, target in origin-form ("/...") or "*";
//   absolute-form and authority-form fail ("unsupported_target": there the target, not Host, names the host);
// - exactly one Host header ("no_host", "duplicate_host"); obs-fold fails ("obs_fold");
// - the head (up to and including the blank line) is at most max_head_bytes ("too_large").
// Done at the blank line that ends the head (the caller replays the whole head anyway).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sixgate::proxy {

class HttpHostParser {
 public:
  enum class State { need_more, done, failed };

  explicit HttpHostParser(std::size_t max_head_bytes = 16384);

  // Bytes in arrival order, any split. Once done or failed, further bytes are ignored.
  State feed(std::span<const std::uint8_t> bytes);
  State state() const { return state_; }

  // When done: the Host header's host without port; brackets of an IPv6 literal are stripped
  // (canonical_hostname refuses those). Raw otherwise: canonical_hostname() decides.
  const std::string& host() const { return host_; }

  // When failed: "bad_request_line", "unsupported_target", "bad_line_end", "bad_header", "obs_fold",
  // "no_host", "duplicate_host", "bad_host", "too_large".
  std::string_view failure_reason() const { return failure_reason_; }

  // Head bytes read (when done: the head's length including the blank line).
  std::size_t consumed() const { return consumed_; }

 private:
  void on_line();
  void on_request_line();
  void on_header_line();
  void fail(std::string_view reason);

  std::size_t max_head_bytes_;
  State state_ = State::need_more;
  std::string_view failure_reason_;
  std::string host_;
  std::string line_;
  bool after_cr_ = false;
  bool request_line_seen_ = false;
  bool host_seen_ = false;
  std::size_t consumed_ = 0;
};

}  // namespace sixgate::proxy
