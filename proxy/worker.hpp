#pragma once
// A worker thread: its own io_context, resolver, pipe pool, and one listener per -listen (its own
// SO_REUSEPORT socket for tcp:, a dup of the shared socket for fd:). All of its connections live on its
// thread.
#include <atomic>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "proxy/worker_context.hpp"

namespace sixgate::proxy {

class Worker {
 public:
  Worker(unsigned index, std::shared_ptr<const RuntimeConfig> runtime, std::atomic<std::size_t>& active);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Before start(): open this worker's listeners and resolver. Errors name the -listen value.
  Status prepare();
  void start();  // runs the io_context on a new thread

  // Thread-safe: each posts to the worker's io_context.
  void stop_accepting();
  void apply(std::shared_ptr<const RuntimeConfig> runtime);
  // Ends every connection still open (each logs outcome=stopped with `reason`); the future holds how many.
  std::future<std::size_t> stop_connections(std::string reason);
  void stop_and_join();

 private:
  using Acceptor = boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol>;
  struct Listener {
    Listener(boost::asio::io_context& io, std::string t) : acceptor(io), backoff(io), text(std::move(t)) {}
    Acceptor acceptor;
    boost::asio::steady_timer backoff;
    std::string text;
    std::uint16_t port = 0;
    boost::asio::generic::stream_protocol::endpoint peer;  // filled by each accept
    std::chrono::milliseconds delay{0};
  };
  void accept(Listener& l);
  void on_accept_error(Listener& l, const boost::system::error_code& ec);

  unsigned index_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  WorkerContext ctx_;
  std::list<Listener> listeners_;
  std::thread thread_;
};

}  // namespace sixgate::proxy
