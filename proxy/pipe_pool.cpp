#include "proxy/pipe_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace sixgate::proxy {

void close_pipe(const Pipe& p) {
  ::close(p.read_end);
  ::close(p.write_end);
}

PipePool::~PipePool() {
  for (auto& p : spare_) close_pipe(p);
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
  p.slots = p.capacity / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (p.capacity > largest_) {
    largest_ = p.capacity;
    close_smaller_spares();
  }
  return p;
}

void PipePool::give(Pipe p) {
  if (p.capacity == largest_ && spare_.size() < kMaxSpare) {
    spare_.push_back(p);
    return;
  }
  close_pipe(p);
}

void PipePool::close_smaller_spares() {
  std::erase_if(spare_, [this](const Pipe& p) {
    if (p.capacity == largest_) return false;
    close_pipe(p);
    return true;
  });
}

}  // namespace sixgate::proxy
