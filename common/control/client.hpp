#pragma once
// The blocking client side of the control socket, for `sixgate-proxy status` / `sixgate-agent status`.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace sixgate::control {

// Sends one request line and returns the "result" of an {"ok":true} reply. Every failure (no socket, refused,
// timeout, bad reply, {"ok":false}) is an error naming the socket path. `timeout` bounds the whole exchange,
// connect() included (a hung daemon whose backlog is full does not block the caller).
Result<nlohmann::json> request(const std::string& socket_path, const nlohmann::json& req,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace sixgate::control
