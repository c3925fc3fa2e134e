// End-to-end check of the netlink source against a real kernel and a real radvd: two network namespaces
// joined by a veth, radvd advertising on one end, the source watching the other end from a thread that
// entered the receiving namespace with setns(). Needs root, `ip` and radvd; without them the test says so and
// does nothing.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/sources/source.hpp"

using namespace sixgate;
using namespace sixgate::agent;
using std::chrono::seconds;

namespace {

bool have_tool(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " >/dev/null 2>&1").c_str()) == 0);
}

struct Advertised {
  std::string prefix;
  int valid_s = 0;
  int preferred_s = 0;
  bool autonomous = true;  // off: on-link information only, no SLAAC address
};

std::string radvd_config(const std::string& interface, const std::vector<Advertised>& prefixes) {
  std::string body;
  for (const auto& p : prefixes)
    body += "  prefix " + p.prefix + " { AdvOnLink on; AdvAutonomous " + (p.autonomous ? "on" : "off") +
            "; AdvValidLifetime " + std::to_string(p.valid_s) + "; AdvPreferredLifetime " +
            std::to_string(p.preferred_s) + "; };\n";
  return "interface " + interface +
         " {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n" + body + "};\n";
}

// The two namespaces, the veth and radvd; everything is removed in the destructor, also when an assertion
// fails.
class Topology {
 public:
  explicit Topology(const std::vector<Advertised>& initial) {
    const auto id = std::to_string(getpid());
    router_ns_ = "sgns-r" + id;
    host_ns_ = "sgns-h" + id;
    router_if_ = "sgvr" + id;
    host_if_ = "sgvh" + id;
    dir_ = std::filesystem::temp_directory_path() / ("sgns-radvd-" + id);
    std::filesystem::create_directories(dir_);

    try {
      run("ip netns add " + router_ns_);
      run("ip netns add " + host_ns_);
      run("ip link add " + router_if_ + " netns " + router_ns_ + " type veth peer name " + host_if_ +
          " netns " + host_ns_);
      run("ip netns exec " + router_ns_ + " sysctl -qw net.ipv6.conf.all.forwarding=1");
      run("ip netns exec " + router_ns_ + " sysctl -qw net.ipv6.conf." + router_if_ + ".accept_dad=0");
      run("ip netns exec " + host_ns_ + " sysctl -qw net.ipv6.conf.all.forwarding=0");
      run("ip netns exec " + host_ns_ + " sysctl -qw net.ipv6.conf." + host_if_ + ".forwarding=0");
      run("ip netns exec " + host_ns_ + " sysctl -qw net.ipv6.conf." + host_if_ + ".accept_ra=1");
      run("ip netns exec " + host_ns_ + " sysctl -qw net.ipv6.conf." + host_if_ + ".autoconf=1");
      run("ip netns exec " + host_ns_ + " sysctl -qw net.ipv6.conf." + host_if_ + ".accept_dad=0");
      run("ip -n " + router_ns_ + " link set " + router_if_ + " up");
      run("ip -n " + host_ns_ + " link set " + host_if_ + " up");
      write_config(initial);
      start_radvd();
    } catch (...) {  // a failed step: the destructor will not run, so clean up here
      cleanup();
      throw;
    }
  }

  ~Topology() { cleanup(); }

  void renumber(const std::vector<Advertised>& prefixes) {
    write_config(prefixes);
    REQUIRE(kill(radvd_pid_, SIGHUP) == 0);
  }

  const std::string& host_ns() const { return host_ns_; }
  const std::string& host_if() const { return host_if_; }

 private:
  void cleanup() {
    if (radvd_pid_ > 0) {
      kill(radvd_pid_, SIGTERM);
      for (int i = 0; i < 50 && waitpid(radvd_pid_, nullptr, WNOHANG) == 0; ++i) usleep(100'000);
      if (waitpid(radvd_pid_, nullptr, WNOHANG) == 0) {
        kill(radvd_pid_, SIGKILL);
        waitpid(radvd_pid_, nullptr, 0);
      }
    }
    std::system(("ip netns del " + router_ns_ + " >/dev/null 2>&1").c_str());
    std::system(("ip netns del " + host_ns_ + " >/dev/null 2>&1").c_str());
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    radvd_pid_ = -1;
  }

  void write_config(const std::vector<Advertised>& prefixes) {
    std::ofstream(dir_ / "radvd.conf") << radvd_config(router_if_, prefixes);
  }

  void start_radvd() {
    const std::string conf = (dir_ / "radvd.conf").string();
    const std::string pidfile = (dir_ / "radvd.pid").string();
    const std::string logfile = (dir_ / "radvd.log").string();
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      execlp("ip", "ip", "netns", "exec", router_ns_.c_str(), "radvd", "-n", "-C", conf.c_str(), "-p",
             pidfile.c_str(), "-m", "logfile", "-l", logfile.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    radvd_pid_ = pid;  // `ip netns exec` execs radvd in place, so this is radvd's pid
  }

  std::string router_ns_, host_ns_, router_if_, host_if_;
  std::filesystem::path dir_;
  pid_t radvd_pid_ = -1;
};

// Runs sources on an io_context in a thread inside a network namespace and keeps the latest set of each.
class SourcesInNamespace {
 public:
  SourcesInNamespace(const std::string& ns, std::vector<std::unique_ptr<PrefixSource>> sources)
      : sources_(std::move(sources)), latest_(sources_.size()), reports_(sources_.size(), 0) {
    thread_ = std::thread([this, ns] { body(ns); });
  }

  ~SourcesInNamespace() {
    boost::asio::post(io_, [this] {
      for (auto& s : sources_) s->stop();
      io_.stop();
    });
    thread_.join();
  }

  // Waits (bounded) until `accept` holds for source `index`'s latest set; returns whether it did.
  bool wait_for(std::size_t index, std::chrono::seconds limit,
                const std::function<bool(const std::vector<PrefixObservation>&)>& accept) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] {
      return failed_ || (reports_[index] > 0 && accept(latest_[index]));
    }) && !failed_;
  }

  std::vector<PrefixObservation> latest(std::size_t index) {
    std::lock_guard lock(mutex_);
    return latest_[index];
  }

 private:
  void body(const std::string& ns) {
    int fd = open(("/var/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      std::lock_guard lock(mutex_);
      failed_ = true;
      changed_.notify_all();
      if (fd >= 0) close(fd);
      return;
    }
    close(fd);
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      sources_[i]->start(io_, [this, i](std::vector<PrefixObservation> set) {
        std::lock_guard lock(mutex_);
        latest_[i] = std::move(set);
        ++reports_[i];
        changed_.notify_all();
      });
    }
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  }

  boost::asio::io_context io_;
  std::vector<std::unique_ptr<PrefixSource>> sources_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<PrefixObservation>> latest_;
  std::vector<int> reports_;
  bool failed_ = false;
  std::thread thread_;
};

const PrefixObservation* find(const std::vector<PrefixObservation>& set, const char* prefix) {
  auto p = Ipv6Prefix::parse(prefix).value();
  for (const auto& o : set)
    if (o.prefix == p) return &o;
  return nullptr;
}

std::string show(const std::vector<PrefixObservation>& set) {
  std::string out = "{";
  for (const auto& o : set) {
    out += ' ';
    out += o.prefix.to_string();
    out += " valid=";
    out += std::to_string(o.valid_lifetime.count());
    out += " preferred=";
    out += std::to_string(o.preferred_lifetime.count());
  }
  out += " }";
  return out;
}

}  // namespace

TEST_CASE("netlink source follows radvd's prefix through a renumbering (netns, needs root)",
          "[netlink][netns]") {
  if (geteuid() != 0 || !have_tool("ip") || !have_tool("radvd")) {
    WARN("not run: needs root, iproute2 and radvd");
    return;
  }
  // Short lifetimes so that the old prefix is gone within the test's bounded wait.
  Topology topo({{"2001:db8:1200:1::/64", 25, 20}});
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(make_netlink_source({topo.host_if(), 64, false}));
  sources.push_back(make_netlink_source({topo.host_if(), 56, false}));
  SourcesInNamespace watch(topo.host_ns(), std::move(sources));

  // 1. The advertised /64 appears (SLAAC address and RA prefix information), with radvd's lifetimes.
  bool first = watch.wait_for(0, seconds(30), [](const auto& set) {
    const auto* o = find(set, "2001:db8:1200:1::/64");
    return set.size() == 1 && o && o->valid_lifetime > seconds(0) && o->valid_lifetime <= seconds(25) &&
           o->preferred_lifetime > seconds(0);
  });
  INFO("delegated /64 view: " << show(watch.latest(0)));
  REQUIRE(first);
  bool wide = watch.wait_for(1, seconds(5), [](const auto& set) {
    return set.size() == 1 && find(set, "2001:db8:1200::/56") != nullptr;
  });
  INFO("delegated /56 view: " << show(watch.latest(1)));
  REQUIRE(wide);

  // 2. Renumbered: the new prefix is preferred; the old one is deprecated but still valid (the kernel keeps
  // an
  //    address's remaining valid lifetime when an unauthenticated RA tries to cut it below two hours).
  topo.renumber({{"2001:db8:1200:2::/64", 300, 200}, {"2001:db8:1200:1::/64", 0, 0}});
  bool renumbered = watch.wait_for(0, seconds(30), [](const auto& set) {
    const auto* fresh = find(set, "2001:db8:1200:2::/64");
    const auto* old = find(set, "2001:db8:1200:1::/64");
    return set.size() == 2 && fresh && old && fresh->preferred_lifetime > seconds(100) &&
           old->preferred_lifetime == seconds(0) && old->valid_lifetime > seconds(0) &&
           old->valid_lifetime <= seconds(25);
  });
  INFO("after renumbering: " << show(watch.latest(0)));
  REQUIRE(renumbered);

  // 3. The old prefix's valid lifetime runs out: only the new prefix is left.
  bool expired = watch.wait_for(0, seconds(40), [](const auto& set) {
    return set.size() == 1 && find(set, "2001:db8:1200:2::/64") != nullptr;
  });
  INFO("after the old lifetime: " << show(watch.latest(0)));
  REQUIRE(expired);
  // The /56 view never changed prefix: both /64s are inside 2001:db8:1200::/56.
  auto wide_now = watch.latest(1);
  INFO("delegated /56 view at the end: " << show(wide_now));
  CHECK((wide_now.size() == 1 && find(wide_now, "2001:db8:1200::/56") != nullptr));
}

namespace {

// One namespace for the interface-following test; removed in the destructor.
class OneNamespace {
 public:
  OneNamespace() : name_("sgns-l" + std::to_string(getpid())) { run("ip netns add " + name_); }
  ~OneNamespace() { std::system(("ip netns del " + name_ + " >/dev/null 2>&1").c_str()); }
  const std::string& name() const { return name_; }
  void exec(const std::string& command) { run("ip netns exec " + name_ + " " + command); }

 private:
  std::string name_;
};

}  // namespace

TEST_CASE("netlink source follows addresses and its interface by name (netns, needs root)",
          "[netlink][netns]") {
  if (geteuid() != 0 || !have_tool("ip")) {
    WARN("not run: needs root and iproute2");
    return;
  }
  OneNamespace ns;
  const std::string ifname = "sglk" + std::to_string(getpid());
  const std::string create = "ip link add " + ifname + " type veth peer name sglp" +
                             std::to_string(getpid()) + " && ip link set " + ifname +
                             " up && ip link set sglp" + std::to_string(getpid()) + " up";
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(make_netlink_source({ifname, 64, false}));
  SourcesInNamespace watch(ns.name(), std::move(sources));

  // The interface does not exist yet: an (empty) initial report, no failure.
  REQUIRE(watch.wait_for(0, seconds(10), [](const auto& set) { return set.empty(); }));

  ns.exec("sh -c '" + create + "'");
  ns.exec("ip -6 addr add fd00:44::1/64 dev " + ifname + " nodad");  // ULA: ignored without include_ula
  ns.exec("ip -6 addr add 2001:db8:4400:1::1/64 dev " + ifname + " nodad valid_lft 100 preferred_lft 50");
  bool appeared = watch.wait_for(0, seconds(10), [](const auto& set) {
    const auto* o = find(set, "2001:db8:4400:1::/64");
    return set.size() == 1 && o && o->valid_lifetime <= seconds(100) && o->valid_lifetime > seconds(80) &&
           o->preferred_lifetime <= seconds(50) && o->preferred_lifetime > seconds(30);
  });
  INFO("after adding an address: " << show(watch.latest(0)));
  REQUIRE(appeared);

  ns.exec("ip -6 addr change 2001:db8:4400:1::1/64 dev " + ifname + " valid_lft 100 preferred_lft 0");
  bool deprecated = watch.wait_for(0, seconds(10), [](const auto& set) {
    const auto* o = find(set, "2001:db8:4400:1::/64");
    return set.size() == 1 && o && o->preferred_lifetime == seconds(0) && o->valid_lifetime > seconds(0);
  });
  INFO("after deprecating it: " << show(watch.latest(0)));
  REQUIRE(deprecated);

  ns.exec("ip link del " + ifname);
  REQUIRE(watch.wait_for(0, seconds(10), [](const auto& set) { return set.empty(); }));

  // Recreated under the same name (a new ifindex) with a new prefix.
  ns.exec("sh -c '" + create + "'");
  ns.exec("ip -6 addr add 2001:db8:4400:2::1/64 dev " + ifname + " nodad");
  bool followed = watch.wait_for(0, seconds(10), [](const auto& set) {
    const auto* o = find(set, "2001:db8:4400:2::/64");
    return set.size() == 1 && o && o->valid_lifetime == seconds::max();
  });
  INFO("after recreating the interface: " << show(watch.latest(0)));
  REQUIRE(followed);
}

TEST_CASE("netlink source sees RA prefix information without SLAAC addresses (netns, needs root)",
          "[netlink][netns]") {
  if (geteuid() != 0 || !have_tool("ip") || !have_tool("radvd")) {
    WARN("not run: needs root, iproute2 and radvd");
    return;
  }
  // On-link only: the host forms no address from it, so only RTM_NEWPREFIX can tell the source.
  Topology topo({{"2001:db8:1200:9::/64", 60, 30, /*autonomous=*/false}});
  std::vector<std::unique_ptr<PrefixSource>> sources;
  sources.push_back(make_netlink_source({topo.host_if(), 56, false}));
  SourcesInNamespace watch(topo.host_ns(), std::move(sources));
  bool seen = watch.wait_for(0, seconds(30), [](const auto& set) {
    const auto* o = find(set, "2001:db8:1200::/56");
    return set.size() == 1 && o && o->valid_lifetime <= seconds(60) && o->valid_lifetime > seconds(0) &&
           o->preferred_lifetime <= seconds(30);
  });
  INFO("view: " << show(watch.latest(0)));
  REQUIRE(seen);
  // Withdrawn with valid lifetime 0: the prefix information ends at once (no address keeps it alive).
  topo.renumber({{"2001:db8:1200:9::/64", 0, 0, false}});
  bool withdrawn = watch.wait_for(0, seconds(30), [](const auto& set) { return set.empty(); });
  INFO("after the withdrawal: " << show(watch.latest(0)));
  REQUIRE(withdrawn);
}
