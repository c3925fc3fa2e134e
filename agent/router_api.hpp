#pragma once
// The five router operations the agent needs, as an interface: the daemon uses the RouterOS REST client, the
// unit tests an in-memory fake.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/types.hpp"
#include "common/result.hpp"

namespace sixgate::agent {

namespace routeros {
class Client;
}

class RouterApi {
 public:
  virtual ~RouterApi() = default;
  virtual Result<std::vector<RosObject>> list(std::string_view menu) = 0;
  virtual Result<RosObject> add(std::string_view menu, const RosObject& fields) = 0;
  virtual Result<RosObject> set(std::string_view menu, std::string_view id, const RosObject& fields) = 0;
  virtual Status remove(std::string_view menu, std::string_view id) = 0;
  virtual Status move(std::string_view menu, const std::vector<std::string>& ids,
                      std::string_view destination) = 0;
  // From any thread: ends the call in progress promptly (with an error) and fails every later one, so a
  // stopping daemon does not wait for a slow router.
  virtual void abort() {}
};

// Forwards to `client`, which must outlive the returned object.
std::unique_ptr<RouterApi> make_router_api(routeros::Client& client);

}  // namespace sixgate::agent
