// (b) The netlink source: one rtnetlink socket (libnl) subscribed to IPv6 address and RA prefix
// notifications, read from the agent's io_context through a stream_descriptor (no thread of its own). An
// initial address dump fills the tracker; a receive-buffer overflow (ENOBUFS) or an interrupted dump triggers
// a fresh dump; any other receive error closes the socket and reopens it after a delay (it could repeat on
// every read). Link notifications make it follow the interface by name (missing at start, deleted, recreated
// with a new index).
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/rtnl.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "agent/sources/interface_prefix_tracker.hpp"
#include "agent/sources/observation_change.hpp"
#include "agent/sources/source.hpp"
#include "common/log.hpp"

namespace sixgate::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kRetryDelay = std::chrono::seconds(2);
constexpr auto kLifetimeSlack = std::chrono::seconds(2);
constexpr int kReceivesPerWakeup = 64;  // then yield to other handlers and continue

std::string describe(const std::vector<PrefixObservation>& set) {
  std::string out;
  for (const auto& o : set) {
    if (!out.empty()) out += ',';
    out += o.prefix.to_string();
    out += " valid=";
    out += o.valid_lifetime == std::chrono::seconds::max() ? "forever"
                                                           : std::to_string(o.valid_lifetime.count());
    out += " preferred=";
    out += o.preferred_lifetime == std::chrono::seconds::max() ? "forever"
                                                               : std::to_string(o.preferred_lifetime.count());
  }
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::io_context& io, NetlinkSourceOptions options, std::string name,
          PrefixSource::Callback cb)
      : io_(io),
        options_(std::move(options)),
        name_(std::move(name)),
        callback_(std::move(cb)),
        expiry_timer_(io),
        retry_timer_(io) {}

  ~Session() { close_socket(); }

  void open() {
    if (stopped_) return;
    sock_ = nl_socket_alloc();
    if (sock_ == nullptr) {
      fail("netlink_socket_failed", "nl_socket_alloc failed");
      return;
    }
    nl_socket_disable_seq_check(sock_);  // multicast notifications carry no sequence number of ours
    nl_socket_modify_cb(sock_, NL_CB_VALID, NL_CB_CUSTOM, &Session::on_message, this);
    cb_ = nl_socket_get_cb(sock_);  // a reference of our own, for nl_recvmsgs_report
    if (int err = nl_connect(sock_, NETLINK_ROUTE); err < 0) return fail_nl("nl_connect", err);
    // Link notifications tell when the interface appears, disappears or is recreated with a new index.
    if (int err = nl_socket_add_memberships(sock_, RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV6_PREFIX, 0);
        err < 0)
      return fail_nl("nl_socket_add_memberships", err);
    nl_socket_set_buffer_size(sock_, 1 << 20, 0);
    if (int err = nl_socket_set_nonblocking(sock_); err < 0) return fail_nl("nl_socket_set_nonblocking", err);
    descriptor_.emplace(io_, nl_socket_get_fd(sock_));
    // Subscribed before resolving the name and dumping, so nothing that happens in between is lost.
    ifindex_ = -1;
    follow_interface();
    log::event(spdlog::level::info, "netlink_source_started",
               {{"source", name_}, {"ifindex", ifindex_}, {"delegated_length", options_.delegated_length}});
    read_available();
  }

  void stop() {
    stopped_ = true;
    expiry_timer_.cancel();
    retry_timer_.cancel();
    close_socket();
  }

 private:
  static int on_message(nl_msg* msg, void* arg) {
    static_cast<Session*>(arg)->handle(msg);
    return NL_OK;
  }

  // (Re)binds the tracker to the interface's current index; 0 while the interface does not exist.
  void follow_interface() {
    const int index = static_cast<int>(if_nametoindex(options_.interface.c_str()));
    if (index == ifindex_) return;
    if (ifindex_ >= 0 || index == 0)
      log::event(index == 0 ? spdlog::level::warn : spdlog::level::info, "netlink_interface",
                 {{"source", name_}, {"ifindex", index}, {"state", index == 0 ? "missing" : "present"}});
    ifindex_ = index;
    tracker_.emplace(
        InterfacePrefixTracker::Options{ifindex_, options_.delegated_length, options_.include_ula, name_});
    dirty_ = true;
    if (index != 0) request_dump();
  }

  void handle(nl_msg* msg) {
    const auto type = nlmsg_hdr(msg)->nlmsg_type;
    if (type == RTM_NEWLINK || type == RTM_DELLINK) {
      links_changed_ = true;
      return;
    }
    auto decoded = decode_netlink_message(msg);
    if (!decoded) {
      log::event(spdlog::level::warn, "netlink_message_malformed",
                 {{"source", name_}, {"error", decoded.error().message}});
      return;
    }
    if (decoded->has_value() && tracker_->apply(**decoded, Clock::now())) dirty_ = true;
  }

  void request_dump() {
    if (int err = nl_rtgen_request(sock_, RTM_GETADDR, AF_INET6, NLM_F_DUMP); err < 0)
      log::event(spdlog::level::err, "netlink_dump_failed", {{"source", name_}, {"error", nl_geterror(err)}});
  }

  // Edge-triggered readiness: read until the socket is empty before waiting again.
  void read_available() {
    if (stopped_ || !descriptor_) return;
    for (int i = 0; i < kReceivesPerWakeup; ++i) {
      const int n = nl_recvmsgs_report(sock_, cb_);
      switch (next_receive_step(n)) {
        case ReceiveStep::read_more:
          break;
        case ReceiveStep::drained:
          settle();
          wait_readable();
          return;
        case ReceiveStep::resync:
          resync(n);
          break;
        case ReceiveStep::reopen:
          settle();  // what was read before the error still counts
          fail("netlink_receive_error", nl_geterror(n));
          return;
      }
    }
    settle();
    boost::asio::post(io_, [self = shared_from_this()] { self->read_available(); });
  }

  void resync(int err) {
    // Lost notifications (receive buffer overflow) or a dump interrupted by a change: start over from a dump.
    // RA prefix information cannot be dumped; it returns with the next RA (meanwhile the prefix set keeps a
    // prefix that only it named, for its valid lifetime).
    log::event(spdlog::level::warn, "netlink_resync", {{"source", name_}, {"reason", nl_geterror(err)}});
    tracker_->clear();
    dirty_ = true;
    request_dump();
  }

  void wait_readable() {
    descriptor_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [self = shared_from_this()](const boost::system::error_code& ec) {
                              if (ec || self->stopped_) return;
                              self->read_available();
                            });
  }

  // After a batch of messages: drop what expired, report if the set changed, arm the expiry timer.
  void settle() {
    if (links_changed_) {
      links_changed_ = false;
      follow_interface();
    }
    const auto now = Clock::now();
    if (tracker_->expire(now)) dirty_ = true;
    if (dirty_ || !reported_) publish(now);
    dirty_ = false;
    arm_expiry();
  }

  void publish(Clock::time_point now) {
    auto set = tracker_ ? tracker_->observations(now) : std::vector<PrefixObservation>{};
    if (reported_ && !observations_differ(last_, last_at_, set, now, kLifetimeSlack)) return;
    log::event(spdlog::level::info, "netlink_prefixes", {{"source", name_}, {"prefixes", describe(set)}});
    reported_ = true;
    last_ = set;
    last_at_ = now;
    callback_(std::move(set));
  }

  void arm_expiry() {
    auto next = tracker_->next_expiry();
    if (!next) {
      expiry_timer_.cancel();
      return;
    }
    expiry_timer_.expires_at(*next);
    expiry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped_) return;
      self->settle();
    });
  }

  void fail(std::string_view event, std::string_view what) {
    log::event(spdlog::level::warn, event, {{"source", name_}, {"error", what}});
    close_socket();
    if (!reported_) publish(Clock::now());  // the initial (empty) set, so the agent can proceed
    retry_timer_.expires_after(kRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped_) return;
      self->open();
    });
  }

  void fail_nl(std::string_view call, int err) {
    fail("netlink_socket_failed", std::string(call) + ": " + nl_geterror(err));
  }

  void close_socket() {
    if (descriptor_) {
      boost::system::error_code ignored;
      descriptor_->cancel(ignored);
      descriptor_->release();  // the fd belongs to the libnl socket
      descriptor_.reset();
    }
    if (cb_ != nullptr) {
      nl_cb_put(cb_);
      cb_ = nullptr;
    }
    if (sock_ != nullptr) {
      nl_socket_free(sock_);
      sock_ = nullptr;
    }
  }

  boost::asio::io_context& io_;
  NetlinkSourceOptions options_;
  std::string name_;
  PrefixSource::Callback callback_;
  boost::asio::steady_timer expiry_timer_;
  boost::asio::steady_timer retry_timer_;
  nl_sock* sock_ = nullptr;
  nl_cb* cb_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> descriptor_;
  int ifindex_ = 0;
  std::optional<InterfacePrefixTracker> tracker_;
  bool stopped_ = false;
  bool dirty_ = false;
  bool links_changed_ = false;
  bool reported_ = false;
  std::vector<PrefixObservation> last_;
  Clock::time_point last_at_{};
};

class NetlinkSource final : public PrefixSource {
 public:
  explicit NetlinkSource(NetlinkSourceOptions options) : options_(std::move(options)) {}
  ~NetlinkSource() override { stop(); }

  std::string name() const override { return "netlink:" + options_.interface; }

  void start(boost::asio::io_context& io, Callback on_change) override {
    stop();
    session_ = std::make_shared<Session>(io, options_, name(), std::move(on_change));
    boost::asio::post(io, [s = session_] { s->open(); });
  }

  void stop() override {
    if (session_) session_->stop();
    session_.reset();
  }

 private:
  NetlinkSourceOptions options_;
  std::shared_ptr<Session> session_;
};

}  // namespace

std::unique_ptr<PrefixSource> make_netlink_source(NetlinkSourceOptions options) {
  return std::make_unique<NetlinkSource>(std::move(options));
}

}  // namespace sixgate::agent
