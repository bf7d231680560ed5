#pragma once
// The world of an end-to-end test: two operators (real oagd processes, agreements both ways), a
// real Kamailio on loopback, and oag-phone processes whose output is read line by line.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/gateway_process.hpp"

namespace oag::test {

/// A child process with its stdout and stderr in one pipe.
class Child {
 public:
  /// Starts `argv[0]` with `argv` in a process group of its own (a server that forks workers
  /// is stopped with all of them).
  explicit Child(const std::vector<std::string>& argv,
                 const std::vector<std::pair<std::string, std::string>>& env = {}) {
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      setpgid(0, 0);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      dup2(p[1], 1);
      dup2(p[1], 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(p[1]);
    fd_ = p[0];
  }
  ~Child() {
    if (pid_ > 0) stop();
    if (fd_ >= 0) close(fd_);
  }
  /// SIGTERM, up to 2 s to exit, then SIGKILL; the process group goes with it either way.
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int st = 0;
    for (int i = 0; i < 200 && waitpid(pid_, &st, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    kill(-pid_, SIGKILL);  // workers left behind, or the leader itself when it did not exit
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Reads until a line starts with `prefix` (true) or the process ends or `ms` pass (false).
  bool wait_line(const std::string& prefix, int ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
      std::istringstream lines(out_);
      for (std::string l; std::getline(lines, l);)
        if (l.rfind(prefix, 0) == 0 && lines.good()) return true;
      if (!read_some(deadline)) return false;
    }
  }
  /// Reads until `text` appears anywhere in the output (true) or `ms` pass (false).
  bool wait_text(const std::string& text, int ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (out_.find(text) == std::string::npos)
      if (!read_some(deadline)) return false;
    return true;
  }
  /// Waits for the exit (SIGKILL after `ms`); the exit status, -1 when killed.
  int wait_exit(int ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (read_some(deadline)) {
    }
    if (std::chrono::steady_clock::now() >= deadline) kill(-pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
    kill(-pid_, SIGKILL);  // nothing of it may outlive it
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  /// Its process id.
  pid_t pid() const { return pid_; }
  /// Everything it printed so far.
  const std::string& out() const { return out_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0 || fd_ < 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[4096];
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) {
      close(fd_);
      fd_ = -1;
      return false;
    }
    out_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

/// The first capture group of `re` in `text`, or "".
inline std::string find(const std::string& text, const std::string& re) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(re)) ? m[1].str() : "";
}

/// A Kamailio on a free loopback port (UDP and TCP), ready when its TCP port accepts.
class Kamailio {
 public:
  /// `topoh`: with the topology-hiding module; `defines` more -A options (WITH_TLS, ...);
  /// `tls`: a TLS listener too (its tls.cfg named by the defines); `env` for its environment.
  explicit Kamailio(const TempDir& dir, bool topoh = false,
                    const std::vector<std::string>& defines = {}, bool tls = false,
                    const std::vector<std::pair<std::string, std::string>>& env = {}) {
    REQUIRE(::access(KAMAILIO_PATH, X_OK) == 0);  // deploy/setup.sh installs it
    port_ = free_port();
    if (tls) do
        tls_port_ = free_port();
      while (tls_port_ == port_);
    std::vector<std::string> argv{KAMAILIO_PATH,
                                  "-DD",
                                  "-E",
                                  "-f",
                                  KAMAILIO_CFG,
                                  "-l",
                                  "udp:127.0.0.1:" + std::to_string(port_),
                                  "-l",
                                  "tcp:127.0.0.1:" + std::to_string(port_),
                                  "-Y",
                                  dir.path().string(),
                                  "-P",
                                  dir.file("kamailio.pid")};
    if (topoh) {
      argv.push_back("-A");
      argv.push_back("WITH_TOPOH");
    }
    if (tls) {
      argv.push_back("-l");
      argv.push_back("tls:127.0.0.1:" + std::to_string(tls_port_));
    }
    for (const auto& d : defines) {
      argv.push_back("-A");
      argv.push_back(d);
    }
    proc_.emplace(argv, env);
    // Readiness: its TCP listener accepts (probed, not slept on).
    for (int i = 0; i < 500; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(port_);
      const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(fd);
      if (ok) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL("kamailio did not start: " << proc_->out());
  }
  /// Its SIP port.
  unsigned short port() const { return port_; }
  /// Its TLS port (0 without TLS).
  unsigned short tls_port() const { return tls_port_; }
  /// True once its log shows `text` (read for up to `ms`).
  bool logged(const std::string& text, int ms = 3000) { return proc_->wait_text(text, ms); }
  /// What it logged so far.
  const std::string& log() const { return proc_->out(); }

 private:
  // Kamailio cannot bind port 0: a port free for both UDP and TCP right now.
  static unsigned short free_port() {
    for (int tries = 0; tries < 50; ++tries) {
      const int t = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a);
      socklen_t len = sizeof a;
      ::getsockname(t, reinterpret_cast<sockaddr*>(&a), &len);
      const int u = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      const bool ok = ::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      ::close(t);
      ::close(u);
      if (ok) return ntohs(a.sin_port);
    }
    FAIL("no free port");
    return 0;
  }
  unsigned short port_ = 0, tls_port_ = 0;
  std::optional<Child> proc_;
};

/// Two operators, agreements both ways, Kamailio, and SIM profiles for alice and bob.
struct World {
  explicit World(bool topoh = false, const std::vector<std::string>& b_users = {"bob"})
      : a("op-a.example", {"alice"}), b("op-b.example", b_users), kamailio(dir, topoh) {
    agree_both(a, b);
    sim("alice", kK);
    sim("bob", kK);
  }

  /// Writes `<user>.sim.json` with K `k` (and the test OP); removes any saved SIM state.
  std::string sim(const std::string& user, const std::string& k) {
    const auto file = dir.file(user + ".sim.json");
    std::ofstream(file) << json{{"imsi", "001010000000001"}, {"k", k}, {"op", kOp}}.dump();
    std::remove((file + ".state").c_str());
    std::remove((file + ".state.rands").c_str());
    return file;
  }

  /// oag-phone arguments for `user` of operator `g`.
  std::vector<std::string> phone(const std::string& verb, const Gateway& g, const std::string& user,
                                 const std::vector<std::string>& extra) const {
    const auto nai = user + "@" + g.realm;
    std::vector<std::string> v{OAG_PHONE_PATH, verb,
                               "--nai",        nai,
                               "--proxy",      "127.0.0.1:" + std::to_string(kamailio.port()),
                               "--sim",        dir.file(user + ".sim.json"),
                               "--ag",         "127.0.0.1:" + std::to_string(g.endpoint_port),
                               "--ca",         g.dir.file("endpoint-ca.pem"),
                               "--cert",       g.dir.file(nai + ".pem"),
                               "--key",        g.dir.file(nai + ".key")};
    v.insert(v.end(), extra.begin(), extra.end());
    return v;
  }

  /// Bob answers (`extra` options), registered when this returns.
  std::unique_ptr<Child> answer(const std::vector<std::string>& extra) {
    auto c = std::make_unique<Child>(phone("answer", b, "bob", extra));
    INFO(c->out());
    REQUIRE(c->wait_line("registered"));
    return c;
  }
  /// Alice calls bob; returns her process after it ended, with `status`.
  std::unique_ptr<Child> call(const std::vector<std::string>& extra, int& status) {
    auto args = phone("call", a, "alice", extra);
    args.insert(args.begin() + 2, "bob@op-b.example");
    auto c = std::make_unique<Child>(args);
    status = c->wait_exit();
    return c;
  }

  /// One call: bob answering (`answer` options), alice calling (`call` options), both ended.
  struct Run {
    std::unique_ptr<Child> alice, bob;
    int alice_status = -1, bob_status = -1;
    /// Both outputs, for a failure message.
    std::string both() const { return "alice:\n" + alice->out() + "\nbob:\n" + bob->out(); }
  };
  /// Runs one call (or several, as the options say) and waits for both ends.
  Run run(const std::vector<std::string>& answer_opts, const std::vector<std::string>& call_opts) {
    Run r;
    r.bob = this->answer(answer_opts);
    r.alice = call(call_opts, r.alice_status);
    r.bob_status = r.bob->wait_exit();
    return r;
  }

  /// Billing records of an operator with `event` = result, as JSON objects.
  static std::vector<json> results(const Gateway& g) {
    const auto file = g.dir.file("results.jsonl");
    ctl_ok("--config " + g.cfg + " billing export --format jsonl --output " + shell_quote(file));
    std::ifstream in(file);
    std::vector<json> out;
    for (std::string l; std::getline(in, l);) {
      const auto j = json::parse(l);
      if (j.contains("event") && j["event"] == "result") out.push_back(j);
    }
    return out;
  }

  TempDir dir;
  Gateway a, b;
  Kamailio kamailio;
};

}  // namespace oag::test
