#pragma once
// The project's error convention: functions that can fail on bad input return Result<T>, which holds either
// a value or an Error whose message names what was wrong and where. Exceptions are used only at the
// boundaries (main, config loading), where Error is converted into `Failure`.
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace sixgate {

struct Error {
  std::string message;
};

class Failure : public std::runtime_error {
 public:
  explicit Failure(const Error& e) : std::runtime_error(e.message) {}
  explicit Failure(const std::string& m) : std::runtime_error(m) {}
};

inline Error make_error(std::string message) {
  return Error{std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  const T& value() const& {
    if (!ok()) throw Failure(error());
    return std::get<0>(v_);
  }
  T& value() & {
    if (!ok()) throw Failure(error());
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) throw Failure(error());
    return std::get<0>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> v_;
};

// For operations that produce nothing but may fail.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace sixgate
