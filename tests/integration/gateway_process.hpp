#pragma once
// An operator for integration tests: `oagctl init` in a temporary directory, subscribers with
// endpoint certificates, and a running oagd on port 0 (ports read from its stdout).

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "proto/aka/vector.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/tls_client.hpp"
#include "tests/unit/support/vectors.hpp"

namespace oag::test {

using nlohmann::json;

inline const std::string kK = "465b5ce8b199b49faa5f0a2ee238a6bc";
inline const std::string kOp = "cdc202d5123e20f62b6d676ac72cb318";

/// The K/OP every test subscriber gets.
inline aka::SubscriberKeys subscriber_keys() {
  return aka::SubscriberKeys::from_op(aka::Algorithm::milenage, test::unhex(kK), test::unhex(kOp));
}

/// Runs oagctl and requires exit 0.
inline void ctl_ok(const std::string& args) {
  const auto r = test::run_command(std::string(OAGCTL_PATH) + " " + args);
  INFO(args << "\n" << r.err);
  REQUIRE(r.status == 0);
}

// An operator directory with alice (active) and dave (to be disabled), their certificates, and
// a running oagd.
struct Gateway {
  /// `tweak` edits the test configuration before the start; `binary` is the daemon to run.
  explicit Gateway(const std::string& realm_name = "op-a.example",
                   const std::vector<std::string>& users = {"alice", "dave"},
                   unsigned breaker_open_ms = 60000, const std::function<void(json&)>& tweak = {},
                   std::string binary = OAGD_PATH, const std::string& init_extra = "")
      : realm(realm_name), daemon(std::move(binary)), home(dir.path().string()) {
    const std::string d = shell_quote(dir.path().string());
    ctl_ok("init --realm " + realm + " --dir " + d + " " + init_extra);
    cfg = shell_quote(dir.file("oagd.json"));
    for (std::size_t i = 0; i < users.size(); ++i) {
      const std::string nai = users[i] + "@" + realm;
      ctl_ok("--config " + cfg + " subscriber add --nai " + shell_quote(nai) +
             " --imsi 00101000000000" + std::to_string(i + 1) + " --k " + kK + " --op " + kOp);
      ctl_ok("--config " + cfg + " endpoint issue-cert --nai " + shell_quote(nai) + " --out-dir " +
             d);
    }
    auto c = json::parse(std::ifstream(dir.file("oagd.json")));
    c["listeners"] = {{"endpoint", {{"address", "127.0.0.1"}, {"port", 0}}},
                      {"federation", {{"address", "127.0.0.1"}, {"port", 0}}},
                      {"visitor", {{"address", "127.0.0.1"}, {"port", 0}}},
                      {"ops", {{"port", 0}}}};
    c["federation"] = {{"connect_timeout_ms", 1000},
                       {"total_timeout_ms", 1500},
                       {"breaker_failures", 3},
                       {"breaker_open_ms", breaker_open_ms}};
    c["limits"] = {{"body_bytes", 1024}, {"header_timeout_ms", 500}};
    if (tweak) tweak(c);
    write_config(c);
    start();
  }
  /// Another instance of `first`'s operator (DESIGN §10): the same keys, certificates and
  /// database, its own configuration (`tweak`: its store.instance and ind_slot) and log.
  Gateway(const Gateway& first, const std::function<void(json&)>& tweak)
      : realm(first.realm), daemon(first.daemon), home(first.home), cfg(first.cfg) {
    auto c = first.config();
    tweak(c);
    write_config(c);
    start();
  }
  ~Gateway() { stop(); }

  void start() {
    endpoint_port = ops_port = federation_port = visitor_port = 0;
    int out[2];
    REQUIRE(pipe2(out, O_CLOEXEC) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(out[1], 1);
      const int err = ::open(dir.file("oagd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(err, 2);
      execl(daemon.c_str(), daemon.c_str(), "--config", dir.file("test.json").c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    // The ports come on stdout once bound: no sleeping, no guessing.
    std::string got;
    char c;
    while ((endpoint_port == 0 || ops_port == 0) && ::read(out[0], &c, 1) == 1) {
      if (c != '\n') {
        got += c;
        continue;
      }
      char name[32];
      char addr[64];
      unsigned port = 0;
      if (std::sscanf(got.c_str(), "listening %31s %63s %u", name, addr, &port) == 3) {
        const std::string n = name;
        (n == "endpoint"     ? endpoint_port
         : n == "federation" ? federation_port
         : n == "visitor"    ? visitor_port
                             : ops_port) = static_cast<unsigned short>(port);
      }
      got.clear();
    }
    close(out[0]);
    INFO(log());
    REQUIRE(endpoint_port != 0);
  }

  int stop() {
    if (pid <= 0) return exit_status;
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    pid = -1;
    exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return exit_status;
  }

  /// SIGKILL: no drain, nothing flushed that was not committed; then reaps it.
  void kill_hard() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
  /// Writes the ports the listeners were given into test.json, so that a restart binds the same
  /// ones (a peer's agreement names the federation port, a client the endpoint port).
  void pin_ports() const {
    auto c = config();
    c["listeners"]["endpoint"]["port"] = endpoint_port;
    c["listeners"]["federation"]["port"] = federation_port;
    c["listeners"]["visitor"]["port"] = visitor_port;
    c["listeners"]["ops"]["port"] = ops_port;
    write_config(c);
  }

  /// The configuration the daemon reads (test.json).
  json config() const { return json::parse(std::ifstream(dir.file("test.json"))); }
  /// Rewrites test.json (a SIGHUP makes the daemon read it).
  void write_config(const json& c) const { std::ofstream(dir.file("test.json")) << c.dump(2); }
  /// SIGHUP, then waits (polling /metrics, no sleep-and-hope) until the daemon counted the
  /// reload; true when it succeeded.
  bool reload() const {
    const auto count = [this](const char* result) {
      const auto body = test::http_get(ops_port, "/metrics").body;
      const std::string key = std::string("oag_config_reloads_total{result=\"") + result + "\"} ";
      const auto at = body.find(key);
      return at == std::string::npos ? -1 : std::stol(body.substr(at + key.size()));
    };
    const long ok0 = count("success"), bad0 = count("failure");
    kill(pid, SIGHUP);
    for (int i = 0; i < 2000; ++i) {
      if (count("success") > ok0) return true;
      if (count("failure") > bad0) return false;
      usleep(5000);
    }
    FAIL("oagd did not count the reload");
    return false;
  }

  std::string log() const {
    std::ifstream in(dir.file("oagd.log"));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::unique_ptr<test::TlsClient> client(const std::string& who) const {
    return std::make_unique<test::TlsClient>(endpoint_port, home + "/endpoint-ca.pem",
                                             home + "/" + who + ".pem", home + "/" + who + ".key");
  }
  json ctl_json(const std::string& args) const {
    const auto r =
        test::run_command(std::string(OAGCTL_PATH) + " --json --config " + cfg + " " + args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
  }
  std::uint64_t billing_records() const {
    return ctl_json("billing verify").at("records").get<std::uint64_t>();
  }
  std::uint64_t sqn_of(const std::string& nai) const {
    return ctl_json("subscriber show --nai " + nai).at("sqn");
  }

  std::string realm;
  std::string daemon;
  test::TempDir dir;
  std::string home;  // where the operator's keys and certificates are (the first instance's dir)
  std::string cfg;
  pid_t pid = -1;
  int exit_status = -1;
  unsigned short endpoint_port = 0, ops_port = 0, federation_port = 0, visitor_port = 0;
};

/// The problem code of a problem+json body (the last segment of its `type`), or "".
inline std::string problem_code(const std::string& body) {
  try {
    const auto t = json::parse(body).at("type").get<std::string>();
    return t.substr(t.rfind('/') + 1);
  } catch (...) {
    return "";
  }
}

/// The URL of a gateway's federation listener.
inline std::string fed_url(const Gateway& g) {
  return "https://127.0.0.1:" + std::to_string(g.federation_port);
}

/// `at` buys `peer`'s vectors under agreement `id` (0.015 a vector; `extra`: more oagctl
/// options; `url`: where to call instead of the peer's listener, e.g. a proxy in between).
inline void agree(const Gateway& at, const std::string& id, const Gateway& peer,
                  const std::string& extra = "", const std::string& url = "") {
  ctl_ok("--config " + at.cfg + " agreement add --id " + id + " --realm " + peer.realm + " --url " +
         (url.empty() ? fed_url(peer) : url) + " --ca-file " +
         shell_quote(peer.dir.file("federation-ca.pem")) + " --price 0.015 " + extra);
}

/// Agreements both ways: a-b at `a`, b-a at `b`.
inline void agree_both(const Gateway& a, const Gateway& b) {
  agree(a, "a-b", b);
  agree(b, "b-a", a);
}

}  // namespace oag::test
