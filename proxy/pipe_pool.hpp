#pragma once
// A worker's spare pipes for splice(2). A relay direction holds a pipe only while bytes are in flight and
// gives it back (empty) when it waits for its source again, so idle connections hold no pipe at all: 5,000
// idle connections cost 10,000 sockets, not 30,000 descriptors. Pipes are enlarged to kPipeBytes when the
// kernel allows it (fs.pipe-max-size, pipe-user-pages-soft for non-root); otherwise they keep what the kernel
// gave: 64 KiB, or 2 pages for an unprivileged user past pipe-user-pages-soft (by default 64 MiB, which 64
// enlarged pipes reach). Only pipes as large as the largest this pool has had are kept as spares: a smaller
// one is closed when given back, which returns its pages to the user's count, so a peak that ran past the
// limit does not leave small pipes in the pool for good.
#include <cstddef>
#include <optional>
#include <vector>

namespace sixgate::proxy {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
  std::size_t capacity = 0;  // bytes
  std::size_t slots = 0;     // page-sized buffers: a pipe fills by these, one per spliced fragment
};

void close_pipe(const Pipe& p);

class PipePool {
 public:
  static constexpr std::size_t kPipeBytes = 1 << 20;
  // Spares count against the user's pipe pages like pipes in use (by default 64 enlarged pipes for all
  // workers together): a pool of 64 could hold one user's whole budget idle while another worker got only
  // 2-page pipes. 16 per worker leaves most of it to the pipes in flight, up to 4 workers.
  static constexpr std::size_t kMaxSpare = 16;

  PipePool() = default;
  // `pipe_bytes`: the size each new pipe asks for (tests ask for small pipes; the kernel may grant less).
  explicit PipePool(std::size_t pipe_bytes) : pipe_bytes_(pipe_bytes) {}
  ~PipePool();
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  // A spare or new pipe; nullopt when pipe2() fails (e.g. EMFILE): the caller copies in user space then.
  std::optional<Pipe> take();
  // `p` must be empty.
  void give(Pipe p);
  std::size_t opened() const { return opened_; }  // pipes created so far
  std::size_t spare() const { return spare_.size(); }

 private:
  void close_smaller_spares();

  std::size_t pipe_bytes_ = kPipeBytes;
  std::size_t largest_ = 0;  // capacity of the largest pipe taken so far; every spare has it
  std::vector<Pipe> spare_;
  std::size_t opened_ = 0;
};

}  // namespace sixgate::proxy
