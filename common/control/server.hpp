#pragma once
// The daemon side of the local control socket (Unix stream socket, mode 0600, in an owner-only directory).
// Protocol: the client sends one JSON object on one line, e.g. {"command":"status"}; the server answers with
// one line, {"ok":true,"result":...} or {"ok":false,"error":"..."}, and closes the connection. Requests
// longer than 64 KiB or slower than 5 s are dropped. Peers whose uid is neither ours nor root are refused.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace sixgate::control {

// Returns the "result" for a request; throwing std::exception turns into {"ok":false,"error":what()}.
using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

class ControlServer {
 public:
  // Checks the directory, removes a stale socket, binds and starts accepting on `io`. The handler runs on
  // `io`'s thread.
  static Result<std::unique_ptr<ControlServer>> start(boost::asio::io_context& io, const std::string& path,
                                                      Handler handler);
  ~ControlServer();  // stops accepting and removes the socket file
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const;

  struct Impl;

 private:
  explicit ControlServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// The standard reply to {"command": ...} requests for daemons that only know "status": dispatches "status"
// to `status` and refuses everything else.
Handler status_only_handler(std::function<nlohmann::json()> status);

}  // namespace sixgate::control
