#include "proxy/pipe_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace sixgate::proxy {

PipePool::~PipePool() {
  for (auto& p : spare_) {
    ::close(p.read_end);
    ::close(p.write_end);
  }
}

std::optional<Pipe> PipePool::take() {
  if (!spare_.empty()) {
    Pipe p = spare_.back();
    spare_.pop_back();
    return p;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return std::nullopt;
  Pipe p{fds[0], fds[1], 0};
  ++opened_;
  // Failing is fine: the pipe keeps the default size then.
  ::fcntl(p.write_end, F_SETPIPE_SZ, static_cast<int>(pipe_bytes_));
  int size = ::fcntl(p.write_end, F_GETPIPE_SZ);
  p.capacity = size > 0 ? static_cast<std::size_t>(size) : 65536;
  return p;
}

void PipePool::give(Pipe p) {
  if (spare_.size() < kMaxSpare) {
    spare_.push_back(p);
    return;
  }
  ::close(p.read_end);
  ::close(p.write_end);
}

}  // namespace sixgate::proxy
