#pragma once
// Incremental TLS ClientHello parser over untrusted bytes: an explicit state machine that keeps its state
// across TLS records and reads (any split, down to one byte per call works) and checks every length against
// its container (record, handshake message, extensions block, extension, list, name). It keeps no pointer to
// the bytes it is fed; the caller keeps them for replay to the backend.
//
// The result is known once the whole handshake message has been read. Bytes after the end of the ClientHello
// (in the same record or later) are not looked at.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sixgate::proxy {

struct HelloLimits {
  std::size_t max_hello_bytes = 65536 + 4;  // the whole handshake message including its 4-byte header
  std::size_t max_alpn_names = 32;          // further ALPN names are checked but not kept
};

class ClientHelloParser {
 public:
  enum class State { need_more, done, failed };

  explicit ClientHelloParser(HelloLimits limits = {});

  // Bytes in arrival order. Once done or failed, further bytes are ignored and the state does not change.
  State feed(std::span<const std::uint8_t> bytes);
  State state() const { return state_; }

  // When done: the raw host_name of the first host_name entry of the server_name extension (may contain any
  // byte, including NUL: canonical_hostname() decides). nullopt = no server_name extension, or one that held
  // only name types other than host_name.
  const std::optional<std::string>& server_name() const { return server_name_; }
  // Offered ALPN protocol names, at most HelloLimits::max_alpn_names of them, each 1..255 bytes.
  const std::vector<std::string>& alpn() const { return alpn_; }

  // When failed: a short stable token: "not_tls", "sslv2", "bad_record", "not_client_hello", "too_large",
  // "bad_version", "bad_length", "bad_sni", "bad_alpn", "duplicate_extension".
  std::string_view failure_reason() const { return failure_reason_; }
  // When failed: human text naming the field; never contains client bytes.
  const std::string& failure_detail() const { return failure_detail_; }

  // Bytes fed so far up to and including the last byte of the ClientHello (when done) or the byte that made
  // it fail (when failed); record headers count.
  std::size_t consumed() const { return consumed_; }

 private:
  enum class Step {
    handshake_header,
    legacy_version,
    random,
    session_id_length,
    session_id,
    cipher_suites_length,
    cipher_suites,
    compression_methods_length,
    compression_methods,
    extensions_length,
    extension_header,
    extension_body,
    server_name_list_length,
    server_name_entry_header,
    server_name_entry,
    alpn_list_length,
    alpn_name_length,
    alpn_name,
  };
  enum class Keep { nothing, integer, text };

  void consume_record_bytes(std::span<const std::uint8_t> bytes);
  std::size_t consume_handshake_bytes(std::span<const std::uint8_t> bytes);
  void on_record_header();
  void on_field();
  void on_extension_header(std::uint16_t type, std::uint16_t length);
  void expect(Step step, std::size_t length, Keep keep);
  bool push_container(std::size_t length);
  void end_list_item();
  void end_extension();
  void fail(std::string_view reason, std::string detail);

  HelloLimits limits_;
  State state_ = State::need_more;
  std::optional<std::string> server_name_;
  std::vector<std::string> alpn_;
  std::string_view failure_reason_;
  std::string failure_detail_;
  std::size_t consumed_ = 0;

  // Record layer.
  std::uint8_t record_header_[5] = {};
  std::size_t record_header_have_ = 0;
  std::size_t record_left_ = 0;  // payload bytes of the current record not yet read
  std::size_t records_seen_ = 0;

  // Handshake layer: the current field and the open containers, outermost first.
  Step step_ = Step::handshake_header;
  Keep keep_ = Keep::integer;
  std::size_t want_ = 4;  // bytes of the current field still to read
  std::uint32_t integer_ = 0;
  std::string text_;
  bool keep_text_ = false;  // whether the text being read is kept (first host_name, first N ALPN names)
  std::size_t containers_[5] = {};
  std::size_t depth_ = 0;
  std::uint16_t server_name_type_ = 0;
  std::set<std::uint16_t> extension_types_;
};

std::string_view to_string(ClientHelloParser::State s);

}  // namespace sixgate::proxy
