// (c) Fixed prefixes with infinite lifetimes, reported once after start.
#include <boost/asio/post.hpp>

#include "agent/sources/source.hpp"

namespace sixgate::agent {
namespace {

class StaticSource final : public PrefixSource {
 public:
  explicit StaticSource(std::vector<Ipv6Prefix> prefixes) : prefixes_(std::move(prefixes)) {}
  ~StaticSource() override { stop(); }

  std::string name() const override { return "static"; }

  void start(boost::asio::io_context& io, Callback on_change) override {
    stop();
    auto alive = std::make_shared<bool>(true);
    alive_ = alive;
    std::vector<PrefixObservation> set;
    for (const auto& p : prefixes_)
      set.push_back({p, std::chrono::seconds::max(), std::chrono::seconds::max(), name()});
    boost::asio::post(io, [alive, cb = std::move(on_change), set = std::move(set)]() mutable {
      if (*alive) cb(std::move(set));
    });
  }

  void stop() override {
    if (alive_) *alive_ = false;
    alive_.reset();
  }

 private:
  std::vector<Ipv6Prefix> prefixes_;
  std::shared_ptr<bool> alive_;
};

}  // namespace

std::unique_ptr<PrefixSource> make_static_source(std::vector<Ipv6Prefix> prefixes) {
  return std::make_unique<StaticSource>(std::move(prefixes));
}

}  // namespace sixgate::agent
