#pragma once
// The bytes a client sent before its relay starts, kept for replay to the backend. Reads go straight into
// spare capacity, which is never zero-filled first (a std::vector resize would clear every chunk before
// the read overwrites it).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace sixgate::proxy {

class HelloBuffer {
 public:
  std::size_t size() const { return size_; }
  std::span<const std::uint8_t> bytes() const { return {data_.get(), size_}; }

  // At least `n` writable bytes after the stored ones (uninitialised); commit() what was written.
  std::span<std::uint8_t> spare(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    return {data_.get() + size_, capacity_ - size_};
  }
  void commit(std::size_t n) { size_ += std::min(n, capacity_ - size_); }

 private:
  void grow(std::size_t at_least) {
    const std::size_t capacity = std::max(at_least, capacity_ * 2);
    auto next = std::make_unique_for_overwrite<std::uint8_t[]>(capacity);
    if (size_ > 0) std::memcpy(next.get(), data_.get(), size_);
    data_ = std::move(next);
    capacity_ = capacity;
  }

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace sixgate::proxy
