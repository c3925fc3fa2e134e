// The static and dhcp-client sources driven by a real io_context, with a scripted router read.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <mutex>

#include "agent/sources/source.hpp"

using namespace sixgate;
using namespace sixgate::agent;
using std::chrono::seconds;

namespace {
Ipv6Prefix pfx(const char* text) {
  return Ipv6Prefix::parse(text).value();
}
RosObject bound(const char* prefix) {
  return {
      {".id", "*1"}, {"interface", "ether1"}, {"status", "bound"}, {"disabled", "false"}, {"prefix", prefix}};
}
}  // namespace

TEST_CASE("static source reports its prefixes once, with infinite lifetimes", "[sources]") {
  boost::asio::io_context io;
  auto source = make_static_source({pfx("fd00:1::/48"), pfx("2001:db8:5500::/56")});
  CHECK(source->name() == "static");
  std::vector<std::vector<PrefixObservation>> reports;
  source->start(io, [&](std::vector<PrefixObservation> set) { reports.push_back(std::move(set)); });
  io.run_for(std::chrono::seconds(5));  // returns as soon as there is no more work
  REQUIRE(reports.size() == 1);
  REQUIRE(reports[0].size() == 2);
  CHECK(reports[0][0].prefix == pfx("fd00:1::/48"));
  CHECK(reports[0][0].valid_lifetime == seconds::max());
  CHECK(reports[0][1].preferred_lifetime == seconds::max());
  CHECK(reports[0][1].source == "static");
}

TEST_CASE("static source stopped before io runs reports nothing", "[sources]") {
  boost::asio::io_context io;
  auto source = make_static_source({pfx("fd00:1::/48")});
  int reports = 0;
  source->start(io, [&](std::vector<PrefixObservation>) { ++reports; });
  source->stop();
  io.run_for(std::chrono::seconds(5));
  CHECK(reports == 0);
}

TEST_CASE("dhcp-client source reports changes only, keeps its set on read errors", "[sources][dhcp-client]") {
  // What the router shows on successive polls; after the script ends the last entry repeats.
  std::vector<Result<std::vector<RosObject>>> script{
      std::vector<RosObject>{bound("2001:db8:1200::/56, 1d")},
      std::vector<RosObject>{bound("2001:db8:1200::/56, 1d")},  // same deadline (within slack): no report
      make_error("connection refused"),                         // read error: no report
      std::vector<RosObject>{bound("garbage")},                 // unreadable: no report
      std::vector<RosObject>{bound("2001:db8:1300::/56, 1d")},  // renumbered: report
      std::vector<RosObject>{
          {{".id", "*1"}, {"interface", "ether1"}, {"status", "searching"}}},  // lost: empty
  };
  std::mutex mutex;
  std::size_t reads = 0;
  auto fetch = [&]() -> Result<std::vector<RosObject>> {
    std::lock_guard lock(mutex);
    return script[std::min(reads++, script.size() - 1)];
  };

  boost::asio::io_context io;
  auto source =
      make_dhcp_client_source({"ether1", std::chrono::milliseconds(1), std::chrono::hours(1)}, fetch);
  CHECK(source->name() == "dhcp-client:ether1");
  std::vector<std::vector<PrefixObservation>> reports;
  source->start(io, [&](std::vector<PrefixObservation> set) {
    reports.push_back(std::move(set));
    if (reports.size() == 3) io.stop();
  });
  io.run_for(std::chrono::seconds(20));  // bound; stops at the third report
  source->stop();

  REQUIRE(reports.size() == 3);
  REQUIRE(reports[0].size() == 1);
  CHECK(reports[0][0].prefix == pfx("2001:db8:1200::/56"));
  CHECK(reports[0][0].valid_lifetime == seconds(86400));
  CHECK(reports[0][0].source == "dhcp-client:ether1");
  REQUIRE(reports[1].size() == 1);
  CHECK(reports[1][0].prefix == pfx("2001:db8:1300::/56"));
  CHECK(reports[2].empty());
  std::lock_guard lock(mutex);
  CHECK(reads >= script.size());
}
