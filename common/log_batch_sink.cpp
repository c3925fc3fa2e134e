#include "common/log_batch_sink.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace sixgate::log {

namespace {
constexpr int kBlockedWaitMs = 200;  // per wait; a descriptor that stays unwritable loses the batch
constexpr int kMaxBlockedWaits = 5;
}  // namespace

LineBatchSink::LineBatchSink(int fd, std::string batched_logger, std::size_t batch_bytes)
    : fd_(fd), batched_logger_(std::move(batched_logger)), batch_bytes_(batch_bytes) {
  pending_.reserve(batch_bytes_ + 512);
}

LineBatchSink::~LineBatchSink() {
  std::lock_guard lock(mutex_);
  write_pending();
}

std::uint64_t LineBatchSink::dropped_bytes() {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void LineBatchSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  pending_.append(line.data(), line.size());
  const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
  const bool batched = !batched_logger_.empty() && logger == batched_logger_;
  if (!batched || pending_.size() >= batch_bytes_) write_pending();
}

void LineBatchSink::flush_() {
  write_pending();
}

// stderr may be a non-blocking pipe shared with another process; a short wait for room is the most it gets.
void LineBatchSink::write_pending() {
  std::size_t done = 0;
  int waits = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN && waits++ < kMaxBlockedWaits) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, kBlockedWaitMs) > 0) continue;
    }
    dropped_ += pending_.size() - done;
    break;
  }
  pending_.clear();
}

}  // namespace sixgate::log
