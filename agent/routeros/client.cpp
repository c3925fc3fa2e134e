#include "agent/routeros/client.hpp"

#include <curl/curl.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "agent/routeros/backoff.hpp"
#include "agent/routeros/certificate_check.hpp"
#include "agent/routeros/errors.hpp"
#include "agent/routeros/json_quirks.hpp"
#include "common/log.hpp"

namespace sixgate::agent::routeros {
namespace {

constexpr std::size_t kMaxBodyBytes = 64 * 1024 * 1024;  // a full firewall table is far below this
constexpr std::chrono::milliseconds kMaxConnectTimeout{5000};

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string_view trim_slashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

// Percent-encodes one path segment (an id or a name); keeps RouterOS' '*' of "*1A" readable.
std::string encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '*') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

// The menu path as given, each segment encoded ("ipv6/firewall/mangle").
std::string encode_menu(std::string_view menu) {
  std::string out;
  menu = trim_slashes(menu);
  while (!menu.empty()) {
    std::size_t slash = menu.find('/');
    if (!out.empty()) out += '/';
    out += encode_segment(menu.substr(0, slash));
    if (slash == std::string_view::npos) break;
    menu.remove_prefix(slash + 1);
  }
  return out;
}

size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  std::size_t n = size * count;
  if (body->size() + n > kMaxBodyBytes) return 0;  // makes curl fail with CURLE_WRITE_ERROR
  body->append(data, n);
  return n;
}

TransportFailure classify(CURLcode code, const CertificateCheck& check) {
  if (check.pin_mismatch) return TransportFailure::pin;
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransportFailure::connect;
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::timeout;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ISSUER_ERROR:
      return TransportFailure::tls;
    default:
      return TransportFailure::other;
  }
}

// Transport failures worth another attempt of an idempotent request: the network or the server hiccuped.
// Certificate and configuration problems will fail the same way again.
bool transport_retryable(TransportFailure kind, CURLcode code) {
  switch (kind) {
    case TransportFailure::connect:
    case TransportFailure::timeout:
      return true;
    case TransportFailure::tls:
    case TransportFailure::pin:
      return false;
    case TransportFailure::other:
      return code == CURLE_GOT_NOTHING || code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR ||
             code == CURLE_PARTIAL_FILE;
  }
  return false;
}

struct Reply {
  int status = 0;
  std::string body;
};

}  // namespace

struct Client::Impl {
  ClientOptions options;
  Credentials credentials;
  std::string base;          // base_url without trailing slash
  std::string config_error;  // set when the options are unusable; every call then returns it
  CertificateCheck check;
  CURL* curl = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::mutex mutex;
  std::atomic<std::uint64_t> sent{0};
  std::atomic<int> last_status{0};
  bool transport_retry = false;  // set by perform(): the last transport failure is worth retrying
  std::atomic<bool> aborted{false};
  std::mutex abort_mutex;  // with abort_wakeup: lets abort() cut a backoff sleep short
  std::condition_variable abort_wakeup;
  std::minstd_rand rng{std::random_device{}()};

  Impl(ClientOptions o, Credentials c) : options(std::move(o)), credentials(std::move(c)) {
    global_init_once();
    configure();
  }
  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }

  void fail_config(std::string message) {
    config_error = "RouterOS client: " + std::move(message);
    log::event(spdlog::level::err, "routeros_client_config", {{"error", config_error}});
  }

  void configure() {
    base = options.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string_view url = base;
    std::size_t scheme_end = url.find("://");
    std::string_view authority = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
    if (authority.substr(0, authority.find_first_of("/?#")).find('@') != std::string_view::npos)
      return fail_config(
          "base URL must not contain credentials; give them in the credentials file or environment");
    bool https = url.starts_with("https://");
    if (!https && !url.starts_with("http://"))
      return fail_config("base URL \"" + log::bounded(base) + "\" must start with https:// (or http://)");
    if (authority.empty()) return fail_config("base URL \"" + log::bounded(base) + "\" has no host");
    if (!options.fingerprint_sha256.empty()) {
      auto fp = normalize_fingerprint(options.fingerprint_sha256);
      if (!fp) return fail_config(fp.error().message);
      check.pin = *fp;
    }
    check.verify_chain = !options.ca_file.empty() || check.pin.empty();
    if (options.insecure && !check.pin.empty())
      return fail_config("insecure and a certificate fingerprint exclude each other; choose one");
    if (options.timeout.count() <= 0) return fail_config("timeout must be positive");

    curl = curl_easy_init();
    if (!curl) return fail_config("libcurl could not create a handle");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, abort_if_asked);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, https ? "https" : "http");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, credentials.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, credentials.password.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(options.timeout, kMaxConnectTimeout).count()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);

    if (!https) {
      log::event(
          spdlog::level::warn, "routeros_plain_http",
          {{"url", base}, {"note", "credentials and changes travel unencrypted; prefer https (www-ssl)"}});
      return;
    }
    if (options.insecure) {
      log::event(spdlog::level::warn, "routeros_tls_insecure",
                 {{"url", base}, {"note", "certificate not verified; pin its fingerprint instead"}});
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
      return;
    }
    if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
    if (!check.pin.empty() && options.ca_file.empty()) {
      // The pin names the exact certificate; CA and host-name checks do not apply (RouterOS certificates are
      // usually self-signed and issued for an address or a local name).
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (auto st = install_certificate_check(curl, &check); !st) {
      if (!check.pin.empty()) return fail_config(st.error().message);
      log::event(spdlog::level::warn, "routeros_tls_fingerprint_unavailable",
                 {{"reason", st.error().message}});
    }
  }

  static int abort_if_asked(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<Impl*>(self)->aborted.load() ? 1 : 0;  // non-zero: CURLE_ABORTED_BY_CALLBACK
  }

  void abort() {
    {
      std::lock_guard lock(abort_mutex);
      aborted = true;
    }
    abort_wakeup.notify_all();
  }

  // False when abort() cut the sleep short.
  bool sleep_unless_aborted(std::chrono::milliseconds delay) {
    std::unique_lock lock(abort_mutex);
    return !abort_wakeup.wait_for(lock, delay, [this] { return aborted.load(); });
  }

  static Error aborted_error(const char* method, const std::string& path) {
    return make_error(request_label(method, path) + ": aborted (the agent is stopping)");
  }

  // One HTTP exchange. Returns the reply (any status) or a transport error message.
  Result<Reply> perform(const char* method, const std::string& path, const std::string* body,
                        bool idempotent) {
    Reply reply;
    std::string url = base + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
    struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    if (body) {
      headers = curl_slist_append(headers, "Content-Type: application/json");
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    } else {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, nullptr);
      curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);  // HTTPGET resets it
      curl_easy_setopt(curl, CURLOPT_NOBODY, 0L);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    // libcurl silently sends a request again when a reused connection closes without a reply; for a write the
    // router may already have applied, that would be a duplicate. Writes are rare: a new connection is cheap.
    curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, idempotent ? 0L : 1L);
    error_buffer[0] = '\0';
    check.reset_observation();
    ++sent;
    CURLcode code = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);
    if (code == CURLE_ABORTED_BY_CALLBACK) {
      last_status = 0;
      return aborted_error(method, path);
    }
    if (code != CURLE_OK) {
      last_status = 0;
      TransportFailure kind = classify(code, check);
      std::string curl_message = error_buffer[0] ? error_buffer : curl_easy_strerror(code);
      if (code == CURLE_WRITE_ERROR) curl_message = "the reply exceeded the 64 MiB limit";
      transport_retry = transport_retryable(kind, code);
      return make_error(describe_transport_error(method, path, base, kind, curl_message, check.seen));
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    reply.status = static_cast<int>(status);
    last_status = reply.status;
    return reply;
  }

  // Sends the request, retrying idempotent ones. Returns the 2xx reply, or an error naming what to do.
  Result<Reply> request(const char* method, const std::string& path, const std::string* body, bool idempotent,
                        bool not_found_ok = false) {
    if (!config_error.empty()) return make_error(config_error);
    for (int attempt = 0;; ++attempt) {
      if (aborted) return aborted_error(method, path);
      transport_retry = false;
      auto reply = perform(method, path, body, idempotent);
      bool retry = false;
      std::string failure;
      if (!reply) {
        retry = transport_retry;
        failure = reply.error().message;
      } else if (reply->status >= 200 && reply->status < 300) {
        return reply;
      } else if (not_found_ok && reply->status == 404) {
        return reply;
      } else {
        retry = reply->status >= 500 || is_session_closed(reply->status, reply->body);
        failure = describe_http_error(method, path, reply->status, reply->body);
      }
      if (!idempotent || !retry || attempt >= options.max_retries) {
        if (attempt > 0) failure += " (after " + std::to_string(attempt + 1) + " attempts)";
        return make_error(failure);
      }
      auto delay = backoff_delay(attempt, options.backoff_base, options.backoff_cap, rng);
      log::event(spdlog::level::info, "routeros_retry",
                 {{"request", request_label(method, path)},
                  {"attempt", attempt + 1},
                  {"delay_ms", static_cast<std::int64_t>(delay.count())},
                  {"error", failure}});
      if (!sleep_unless_aborted(delay)) return aborted_error(method, path);
    }
  }

  // One request with its JSON reply parsed; the caller holds the mutex. Only GETs are retried.
  Result<nlohmann::json> json_call(const char* method, const std::string& path, const RosObject* fields) {
    std::string body = fields ? to_request_body(*fields) : std::string();
    const bool is_get = std::string_view(method) == "GET";
    auto reply = request(method, path, fields ? &body : nullptr, is_get);
    if (!reply) return reply.error();
    return parse_body(reply->body, std::string("RouterOS ") + method + " " + path);
  }

  static std::string menu_path(std::string_view menu) { return "/rest/" + encode_menu(menu); }
  static std::string item_path(std::string_view menu, std::string_view id) {
    return menu_path(menu) + "/" + encode_segment(id);
  }
};

Client::Client(ClientOptions options, Credentials credentials)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(credentials))) {}

Client::~Client() = default;

Result<std::vector<RosObject>> Client::list(std::string_view menu) {
  std::lock_guard lock(impl_->mutex);
  const std::string path = Impl::menu_path(menu);
  auto j = impl_->json_call("GET", path, nullptr);
  if (!j) return j.error();
  return to_ros_list(*j, "RouterOS GET " + path);
}

Result<RosObject> Client::get(std::string_view menu, std::string_view id) {
  std::lock_guard lock(impl_->mutex);
  const std::string path = Impl::item_path(menu, id);
  auto j = impl_->json_call("GET", path, nullptr);
  if (!j) return j.error();
  return to_singleton(*j, "RouterOS GET " + path);
}

Result<RosObject> Client::singleton(std::string_view menu) {
  std::lock_guard lock(impl_->mutex);
  const std::string path = Impl::menu_path(menu);
  auto j = impl_->json_call("GET", path, nullptr);
  if (!j) return j.error();
  return to_singleton(*j, "RouterOS GET " + path);
}

Result<RosObject> Client::add(std::string_view menu, const RosObject& fields) {
  std::lock_guard lock(impl_->mutex);
  const std::string path = Impl::menu_path(menu);
  auto j = impl_->json_call("PUT", path, &fields);
  if (!j) return j.error();
  return to_singleton(*j, "RouterOS PUT " + path);
}

Result<RosObject> Client::set(std::string_view menu, std::string_view id, const RosObject& fields) {
  std::lock_guard lock(impl_->mutex);
  const std::string path = Impl::item_path(menu, id);
  auto j = impl_->json_call("PATCH", path, &fields);
  if (!j) return j.error();
  return to_singleton(*j, "RouterOS PATCH " + path);
}

Status Client::remove(std::string_view menu, std::string_view id) {
  std::lock_guard lock(impl_->mutex);
  std::string path = Impl::item_path(menu, id);
  auto reply = impl_->request("DELETE", path, nullptr, true, /*not_found_ok=*/true);
  if (!reply) return reply.error();
  return ok_status();
}

Status Client::move(std::string_view menu, const std::vector<std::string>& ids,
                    std::string_view destination) {
  std::lock_guard lock(impl_->mutex);
  if (ids.empty()) return ok_status();
  std::string numbers;
  for (const auto& id : ids) numbers += (numbers.empty() ? "" : ",") + id;
  RosObject fields{{"numbers", numbers}};
  if (!destination.empty()) fields["destination"] = std::string(destination);
  std::string path = Impl::menu_path(menu) + "/move";
  std::string body = to_request_body(fields);
  auto reply = impl_->request("POST", path, &body, false);
  if (!reply) return reply.error();
  return ok_status();
}

void Client::abort() {
  impl_->abort();  // without the mutex: the call in progress holds it
}

std::uint64_t Client::requests_sent() const {
  return impl_->sent.load();
}

int Client::last_http_status() const {
  return impl_->last_status.load();
}

}  // namespace sixgate::agent::routeros
