#include "agent/router_api.hpp"

#include "agent/routeros/client.hpp"

namespace sixgate::agent {
namespace {

class RestRouterApi final : public RouterApi {
 public:
  explicit RestRouterApi(routeros::Client& client) : client_(client) {}
  Result<std::vector<RosObject>> list(std::string_view menu) override { return client_.list(menu); }
  Result<RosObject> add(std::string_view menu, const RosObject& fields) override {
    return client_.add(menu, fields);
  }
  Result<RosObject> set(std::string_view menu, std::string_view id, const RosObject& fields) override {
    return client_.set(menu, id, fields);
  }
  Status remove(std::string_view menu, std::string_view id) override { return client_.remove(menu, id); }
  Status move(std::string_view menu, const std::vector<std::string>& ids,
              std::string_view destination) override {
    return client_.move(menu, ids, destination);
  }
  void abort() override { client_.abort(); }

 private:
  routeros::Client& client_;
};

}  // namespace

std::unique_ptr<RouterApi> make_router_api(routeros::Client& client) {
  return std::make_unique<RestRouterApi>(client);
}

}  // namespace sixgate::agent
