#include <catch2/catch.hpp>

#include "common/result.hpp"

using namespace sixgate;

namespace {
Result<int> half(int x) {
  if (x % 2) return make_error("odd: " + std::to_string(x));
  return x / 2;
}
}  // namespace

TEST_CASE("Result holds a value or an error") {
  auto good = half(4);
  REQUIRE(good.ok());
  CHECK(*good == 2);
  auto bad = half(3);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "odd: 3");
  CHECK(bad.value_or(-1) == -1);
  CHECK_THROWS_AS(bad.value(), Failure);
  CHECK_THROWS_WITH(bad.value(), "odd: 3");
  Status s = ok_status();
  CHECK(s.ok());
}
