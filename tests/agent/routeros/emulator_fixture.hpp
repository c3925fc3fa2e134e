#pragma once
// Runs tests/routeros_emulator/emulator.py for a C++ test: throw-away certificate (openssl CLI) in a temp
// dir, free loopback ports (the emulator picks them and reports them on its "ready" line), a bounded wait,
// and SIGTERM/SIGKILL + cleanup in the destructor. The control API is driven with libcurl.
#include <curl/curl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/routeros/client.hpp"

namespace sixgate::test {

inline bool tool_available(const char* name) {
  std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

inline std::string emulator_script() {
  if (const char* src = std::getenv("SIXGATE_SOURCE_DIR"))
    return std::string(src) + "/tests/routeros_emulator/emulator.py";
  return (std::filesystem::path(__FILE__).parent_path() / "../../routeros_emulator/emulator.py")
      .lexically_normal();
}

inline std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + cmd);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (::pclose(p) != 0) throw std::runtime_error("command failed: " + cmd);
  return out;
}

class Emulator {
 public:
  std::string user = "sixgate", password = "pw with spaces:colon";
  std::string dir, cert, key, fingerprint;  // fingerprint: lowercase hex SHA-256 of cert (DER)
  int rest_port = 0, control_port = 0;

  explicit Emulator(bool plain = false) {
    char tmpl[] = "/tmp/sgag-rosemu-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    try {
      run_capture("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + key +
                  " -out " + cert +
                  " -days 2 -subj /CN=router.test -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1");
      std::string fp = run_capture("openssl x509 -noout -fingerprint -sha256 -in " + cert);
      fp = fp.substr(fp.find('=') + 1);
      for (char c : fp)
        if (std::isxdigit(static_cast<unsigned char>(c)))
          fingerprint += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      start(plain);
    } catch (...) {
      cleanup();
      throw;
    }
  }
  ~Emulator() { cleanup(); }
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  std::string base_url() const {
    return std::string(plain_ ? "http" : "https") + "://127.0.0.1:" + std::to_string(rest_port);
  }

  agent::routeros::ClientOptions options() const {
    agent::routeros::ClientOptions o;
    o.base_url = base_url();
    o.ca_file = cert;
    o.timeout = std::chrono::milliseconds(10000);
    o.backoff_base = std::chrono::milliseconds(1);
    o.backoff_cap = std::chrono::milliseconds(20);
    return o;
  }
  agent::routeros::Credentials credentials() const { return {user, password}; }

  // POST/GET on the control API; returns the body; throws on a non-200 reply.
  std::string control(const std::string& method, const std::string& path,
                      const std::string& body = "") const {
    CURL* c = curl_easy_init();
    std::string url = "http://127.0.0.1:" + std::to_string(control_port) + path, out;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (method != "GET") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
          static_cast<std::string*>(u)->append(d, s * n);
          return s * n;
        });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK || status != 200)
      throw std::runtime_error("control " + method + " " + path + " failed: " + std::to_string(status) + " " +
                               out);
    return out;
  }

  void fault(const std::string& json) const { control("POST", "/_emu/fault", json); }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  bool plain_ = false;

  void start(bool plain) {
    plain_ = plain;
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::string script = emulator_script();
    std::vector<std::string> args = {"python3", script,   "--port", "0",          "--control-port",
                                     "0",       "--user", user,     "--password", password};
    if (plain) {
      args.push_back("--plain");
    } else {
      args.insert(args.end(), {"--cert", cert, "--key", key});
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("python3", argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (line.find('\n') == std::string::npos) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("emulator did not print ready within 20 s");
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[256];
      ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("emulator exited before ready (" + script + ")");
      line.append(buf, static_cast<std::size_t>(n));
    }
    if (std::sscanf(line.c_str(), "ready rest=%d control=%d", &rest_port, &control_port) != 2)
      throw std::runtime_error("unexpected emulator output: " + line);
  }

  void cleanup() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      bool gone = false;
      for (int i = 0; i < 50 && !gone; ++i) {
        gone = ::waitpid(pid_, &status, WNOHANG) == pid_;
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!gone) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
      pid_ = -1;
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};

// Python 3 and the openssl CLI are needed; without them the emulator tests say so and pass vacuously.
inline bool emulator_prerequisites() {
  return tool_available("python3") && tool_available("openssl");
}

}  // namespace sixgate::test
