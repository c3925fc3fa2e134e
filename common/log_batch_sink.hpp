#pragma once
// An spdlog sink that writes whole lines to a file descriptor (stderr in the binaries), either at once or,
// for the loggers named as batched, gathered and written together: when `batch_bytes` have gathered, when a
// line that is not batched arrives (earlier lines go first, so the order stays), and on flush(), which the
// owner calls on a timer and before exit. A high-rate access log then costs one write(2) per batch, not per
// line.
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace sixgate::log {

class LineBatchSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  LineBatchSink(int fd, std::string batched_logger, std::size_t batch_bytes);
  ~LineBatchSink() override;

  // Bytes dropped because the descriptor refused them (closed pipe, full disk, ...): there is nowhere left
  // to report that, so it is counted.
  std::uint64_t dropped_bytes();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void write_pending();

  int fd_;
  std::string batched_logger_;
  std::size_t batch_bytes_;
  std::string pending_;
  std::uint64_t dropped_ = 0;
};

}  // namespace sixgate::log
