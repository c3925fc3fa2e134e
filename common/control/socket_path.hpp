#pragma once
// Where a control socket may live: its directory must belong to the daemon's user (or root) and must not be
// writable by group or others, so nobody else can replace the socket. A missing directory (one level) is
// created with mode 0700.
#include <string>

#include "common/result.hpp"

namespace sixgate::control {

Status prepare_socket_directory(const std::string& socket_path);

// Removes a leftover socket file from a previous run. Refuses to touch anything that is not a socket, and a
// socket a live daemon still answers on ("already running").
Status remove_stale_socket(const std::string& socket_path);

}  // namespace sixgate::control
