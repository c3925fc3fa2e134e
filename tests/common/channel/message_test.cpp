#include <catch2/catch.hpp>
#include <string>
#include <variant>
#include <vector>

#include "common/channel/message.hpp"
#include "test_keys.hpp"

using namespace sixgate::channel;
using sixgate::channel::testing::key_of;

namespace {

Message sample() {
  return Message{MessageType::agent_report, "home", "router-1", 1764070000123456ULL, R"({"a":1})"};
}

DropReason reason_of(const std::vector<std::uint8_t>& bytes) {
  auto r = parse_envelope(bytes);
  REQUIRE(std::holds_alternative<Rejection>(r));
  return std::get<Rejection>(r).reason;
}

}  // namespace

TEST_CASE("message: encode then parse gives back every field and a valid MAC") {
  auto key = key_of(1);
  auto bytes = encode_message(sample(), key);
  REQUIRE(bytes.ok());
  CHECK(bytes->size() == encoded_size(sample()));
  auto parsed = parse_envelope(*bytes);
  REQUIRE(std::holds_alternative<Envelope>(parsed));
  const auto& env = std::get<Envelope>(parsed);
  CHECK(env.version == kVersion);
  CHECK(env.message.type == MessageType::agent_report);
  CHECK(env.message.site == "home");
  CHECK(env.message.sender == "router-1");
  CHECK(env.message.counter == 1764070000123456ULL);
  CHECK(env.message.payload == R"({"a":1})");
  CHECK(verify_mac(env, key));
  CHECK_FALSE(verify_mac(env, key_of(2)));
}

TEST_CASE("message: header layout is big endian at the documented offsets") {
  auto bytes = encode_message(sample(), key_of(1)).value();
  CHECK(std::string(bytes.begin(), bytes.begin() + 4) == "SGCH");
  CHECK(bytes[4] == 1);
  CHECK(bytes[5] == 1);
  CHECK(bytes[6] == 4);
  CHECK(bytes[7] == 8);
  std::uint64_t counter = 0;
  for (int i = 8; i < 16; ++i) counter = (counter << 8) | bytes[i];
  CHECK(counter == 1764070000123456ULL);
  CHECK(bytes[16] == 0);
  CHECK(bytes[17] == 7);
  CHECK(bytes[18] == 0);
  CHECK(bytes[19] == 0);
  CHECK(std::string(bytes.begin() + 20, bytes.begin() + 24) == "home");
}

TEST_CASE("message: every flipped bit fails the MAC or the structure") {
  auto key = key_of(1);
  auto good = encode_message(sample(), key).value();
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto bad = good;
      bad[i] ^= static_cast<std::uint8_t>(1 << bit);
      auto r = parse_envelope(bad);
      if (auto* env = std::get_if<Envelope>(&r)) {
        INFO("byte " << i << " bit " << bit);
        CHECK_FALSE(verify_mac(*env, key));
      }
    }
  }
}

TEST_CASE("message: encoder refuses bad names and oversize messages") {
  auto key = key_of(1);
  auto m = sample();
  m.site = "";
  CHECK_FALSE(encode_message(m, key).ok());
  m = sample();
  m.site = "bad site";
  CHECK_FALSE(encode_message(m, key).ok());
  m = sample();
  m.sender = std::string(64, 'a');
  CHECK_FALSE(encode_message(m, key).ok());
  m = sample();
  m.payload = std::string(kMaxDatagram, 'x');
  CHECK_FALSE(encode_message(m, key).ok());
  m.payload.resize(kMaxDatagram - kHeaderSize - kMacSize - m.site.size() - m.sender.size());
  CHECK(encode_message(m, key).ok());
}

TEST_CASE("message: structural rejections") {
  auto good = encode_message(sample(), key_of(1)).value();

  CHECK(reason_of(std::vector<std::uint8_t>(kMaxDatagram + 1, 0)) == DropReason::oversize);
  CHECK(reason_of({}) == DropReason::malformed);
  CHECK(reason_of(std::vector<std::uint8_t>(good.begin(), good.begin() + 30)) == DropReason::malformed);

  auto bad = good;
  bad[0] = 'X';
  CHECK(reason_of(bad) == DropReason::malformed);

  bad = good;
  bad[4] = 2;
  CHECK(reason_of(bad) == DropReason::bad_version);

  bad = good;
  bad[5] = 9;
  CHECK(reason_of(bad) == DropReason::unexpected_type);

  bad = good;
  bad[6] = 0;  // empty site
  CHECK(reason_of(bad) == DropReason::malformed);

  bad = good;
  bad[7] = 200;  // sender longer than allowed
  CHECK(reason_of(bad) == DropReason::malformed);

  bad = good;
  bad[19] = 1;  // reserved
  CHECK(reason_of(bad) == DropReason::malformed);

  bad = good;
  bad[17] = 8;  // payload length one more than present
  CHECK(reason_of(bad) == DropReason::malformed);

  bad = good;
  bad.push_back(0);  // trailing byte
  CHECK(reason_of(bad) == DropReason::malformed);

  bad = good;
  bad[20] = ' ';  // site "home" -> " ome"
  CHECK(reason_of(bad) == DropReason::malformed);
}
