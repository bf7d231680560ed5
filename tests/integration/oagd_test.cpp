// oagd as a real process with real TLS on loopback (port 0), certificates made at test time by
// `oagctl init` / `endpoint issue-cert`, a real SQLite file.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "proto/aka/hex.hpp"
#include "proto/aka/usim.hpp"
#include "tests/integration/gateway_process.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/tls_client.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using nlohmann::json;
using test::shell_quote;

using test::ctl_ok;
using test::Gateway;
using test::kK;
using test::kOp;

namespace {

void require_problem(const test::HttpReply& r, int status, const std::string& code,
                     const std::string& detail_has = {}) {
  INFO(r.body);
  REQUIRE(r.status == status);
  CHECK(r.headers.at("content-type") == "application/problem+json");
  const auto j = json::parse(r.body);
  CHECK(j.at("type") == "https://oag.example/problems/" + code);
  CHECK(j.at("status") == status);
  CHECK(j.at("detail").get<std::string>().find(detail_has) != std::string::npos);
}

}  // namespace

TEST_CASE("good requests: aka and sim vectors verify against the subscriber's K", "[oagd]") {
  // Every access line at info (logging.access_sample 1), so that the log has them to search.
  Gateway g("op-a.example", {"alice", "dave"}, 60000, [](json& c) {
    c["logging"] = {{"access_sample", 1}};
  });
  auto c = g.client("alice@op-a.example");
  auto r =
      c->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka","count":3})");
  INFO(r.body << g.log());
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(j.at("subject") == "alice@op-a.example");
  CHECK(j.at("issuer") == "op-a.example");
  REQUIRE(j.at("vectors").size() == 3);
  aka::UsimSqnState usim;
  for (const auto& v : j.at("vectors")) {
    const auto out = aka::usim_run_aka(
        test::subscriber_keys(), *aka::from_hex_fixed<16>(v.at("rand").get<std::string>()),
        *aka::from_hex_fixed<16>(v.at("autn").get<std::string>()), usim);
    REQUIRE(std::holds_alternative<aka::AkaSuccess>(out));
    const auto& ok = std::get<aka::AkaSuccess>(out);
    CHECK(aka::to_hex(ok.res.expose()) == v.at("xres"));
    CHECK(aka::to_hex(ok.ck.expose()) == v.at("ck"));
    CHECK(v.at("expires").get<std::string>().back() == 'Z');
  }
  // Same connection (keep-alive), now sim.
  r = c->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})");
  REQUIRE(r.status == 200);
  j = json::parse(r.body);
  const auto& v = j.at("vectors").at(0);
  const auto t = aka::generate_triplet(test::subscriber_keys(),
                                       *aka::from_hex_fixed<16>(v.at("rand").get<std::string>()));
  CHECK(aka::to_hex(t.sres.expose()) == v.at("sres"));
  CHECK(aka::to_hex(t.kc.expose()) == v.at("kc"));
  CHECK(g.billing_records() == 2);
  CHECK(g.sqn_of("alice@op-a.example") == 3);
  // Keys never reach the log.
  const auto log = g.log();
  CHECK(log.find(v.at("kc").get<std::string>()) == std::string::npos);
  CHECK(log.find(kK) == std::string::npos);
  CHECK(log.find("OAG2001") != std::string::npos);  // the access line
  CHECK(g.stop() == 0);
}

TEST_CASE("handshake refused without a client certificate or with one from another CA",
          "[oagd][tls]") {
  Gateway g;
  test::TlsClient anonymous(g.endpoint_port, g.dir.file("endpoint-ca.pem"));
  CHECK(anonymous.request("POST", "/v1/vectors", "{}").status == 0);

  test::TempDir other;
  ctl_ok("init --realm op-x.example --dir " + shell_quote(other.path().string()));
  const std::string ocfg = shell_quote(other.file("oagd.json"));
  ctl_ok("--config " + ocfg +
         " subscriber add --nai alice@op-x.example --imsi 001010000000001 --k " + kK + " --op " +
         kOp);
  ctl_ok("--config " + ocfg + " endpoint issue-cert --nai alice@op-x.example --out-dir " +
         shell_quote(other.path().string()));
  test::TlsClient foreign(g.endpoint_port, g.dir.file("endpoint-ca.pem"),
                          other.file("alice@op-x.example.pem"),
                          other.file("alice@op-x.example.key"));
  CHECK(foreign.request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka"})")
            .status == 0);
  CHECK(g.billing_records() == 0);
  const auto metrics = test::http_get(g.ops_port, "/metrics");
  CHECK(metrics.body.find("oag_tls_handshake_failures_total{listener=\"endpoint\"}") !=
        std::string::npos);
}

TEST_CASE("refusals: disabled subscriber, revoked certificate, foreign realm", "[oagd]") {
  Gateway g;
  ctl_ok("--config " + g.cfg + " subscriber disable --nai dave@op-a.example");
  require_problem(
      g.client("dave@op-a.example")
          ->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka"})"),
      403, "requester-not-allowed", "dave@op-a.example");
  require_problem(
      g.client("alice@op-a.example")
          ->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"aka"})"),
      403, "no-agreement", "op-b.example");
  require_problem(
      g.client("alice@op-a.example")
          ->request("POST", "/v1/vectors", R"({"nai":"zoe@op-a.example","kind":"aka"})"),
      404, "not-found", "zoe@op-a.example");
  ctl_ok("--config " + g.cfg + " endpoint revoke --nai alice@op-a.example");
  require_problem(
      g.client("alice@op-a.example")
          ->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka"})"),
      403, "certificate-revoked");
  CHECK(g.billing_records() == 0);
  CHECK(g.sqn_of("alice@op-a.example") == 0);
}

TEST_CASE("bad input: right status and problem code, database unchanged", "[oagd]") {
  Gateway g;
  auto c = g.client("alice@op-a.example");
  struct Case {
    std::string body, content_type;
    int status;
    std::string code, detail;
  };
  const std::vector<Case> cases = {
      {"{not json", "application/json", 400, "malformed-json", "body"},
      // A number JSON cannot hold: nlohmann throws out_of_range, not parse_error (the
      // certificate-call fuzzer found it: it was a 500).
      {R"({"nai":"alice@op-a.example","kind":"aka","count":1e99999})", "application/json", 400,
       "malformed-json", "body"},
      {"[1,2]", "application/json", 400, "invalid-field", "body"},
      {R"({"nai":"alice@op-a.example","kind":"aka","count":"1"})", "application/json", 400,
       "invalid-field", "count"},
      {R"({"nai":"alice@op-a.example","kind":"gsm"})", "application/json", 400, "invalid-field",
       "kind"},
      {R"({"nai":"alice@op-a.example","kind":"aka","count":0})", "application/json", 400,
       "invalid-field", "count"},
      {R"({"nai":"alice@op-a.example","kind":"aka","count":17})", "application/json", 400,
       "invalid-field", "count"},
      {R"({"nai":42,"kind":"aka"})", "application/json", 400, "invalid-field", "nai"},
      {R"({"kind":"aka"})", "application/json", 400, "invalid-field", "nai"},
      {R"({"nai":"alice@op-a.example","kind":"aka","colour":"red"})", "application/json", 400,
       "invalid-field", "colour"},
      {R"({"nai":"alice@op-a.example","kind":"aka"})", "text/plain", 415, "unsupported-media-type",
       "content-type"},
      {R"({"nai":"alice@op-a.example","kind":"aka"})", "", 415, "unsupported-media-type",
       "content-type"},
  };
  for (const auto& k : cases) {
    INFO(k.body << " / " << k.content_type);
    require_problem(c->request("POST", "/v1/vectors", k.body, k.content_type), k.status, k.code,
                    k.detail);
  }
  require_problem(c->request("POST", "/v1/vectors", std::string(2000, ' ') + "{}"), 413,
                  "body-too-large", "body");
  require_problem(g.client("alice@op-a.example")->request("GET", "/v1/vectors"), 405,
                  "method-not-allowed");
  require_problem(g.client("alice@op-a.example")->request("POST", "/v2/nothing", "{}"), 404,
                  "not-found", "path");
  CHECK(g.billing_records() == 0);
  CHECK(g.sqn_of("alice@op-a.example") == 0);
  CHECK(g.ctl_json("subscriber list").size() == 2);
}

TEST_CASE("resync: a good AUTS moves SQN, a bad one is 400 bad-auts and results are recorded once",
          "[oagd]") {
  Gateway g;
  auto c = g.client("alice@op-a.example");
  auto r = c->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka"})");
  REQUIRE(r.status == 200);
  const auto v = json::parse(r.body).at("vectors").at(0);
  const auto rand = *aka::from_hex_fixed<16>(v.at("rand").get<std::string>());
  auto auts = aka::build_auts(test::subscriber_keys(), rand, aka::Sqn::from_seq_ind(900, 0, 5));
  auto bad = auts;
  bad[13] ^= 1;
  require_problem(c->request("POST", "/v1/resync",
                             json{{"rand", aka::to_hex(rand)}, {"auts", aka::to_hex(bad)}}.dump()),
                  400, "bad-auts");
  CHECK(g.sqn_of("alice@op-a.example") == 1);
  require_problem(
      c->request("POST", "/v1/resync", json{{"rand", aka::to_hex(rand)}, {"auts", "00"}}.dump()),
      400, "invalid-field", "auts");
  r = c->request("POST", "/v1/resync",
                 json{{"rand", aka::to_hex(rand)}, {"auts", aka::to_hex(auts)}}.dump());
  INFO(r.body);
  CHECK(r.status == 204);
  CHECK(g.sqn_of("alice@op-a.example") == 900);

  const std::string path = "/v1/vectors/" + v.at("id").get<std::string>() + "/result";
  CHECK(c->request("POST", path, R"({"outcome":"success"})").status == 204);
  require_problem(c->request("POST", path, R"({"outcome":"success"})"), 409, "conflict");
  require_problem(c->request("POST", path, R"({"outcome":"maybe"})"), 400, "invalid-field",
                  "outcome");
  require_problem(g.client("dave@op-a.example")->request("POST", path, R"({"outcome":"failure"})"),
                  404, "not-found");
  CHECK(g.billing_records() == 2);  // the issue and one result
}

TEST_CASE("ops listener: healthz, readyz, metrics", "[oagd][ops]") {
  Gateway g;
  REQUIRE(
      g.client("alice@op-a.example")
          ->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka","count":2})")
          .status == 200);
  CHECK(test::http_get(g.ops_port, "/healthz").status == 200);
  CHECK(test::http_get(g.ops_port, "/readyz").status == 200);
  const auto m = test::http_get(g.ops_port, "/metrics");
  REQUIRE(m.status == 200);
  CHECK(
      m.body.find("oag_requests_total{listener=\"endpoint\",route=\"vectors\",status=\"200\"} 1") !=
      std::string::npos);
  CHECK(m.body.find("oag_vectors_issued_total{kind=\"aka\",role=\"local\"} 2") !=
        std::string::npos);
  CHECK(m.body.find("oag_store_commit_batch_size_count") != std::string::npos);
  CHECK(m.body.find("oag_request_duration_seconds_bucket") != std::string::npos);
  CHECK(m.body.find("oag_open_connections") != std::string::npos);
  CHECK(test::http_get(g.ops_port, "/nope").status == 404);
}

TEST_CASE("SIGTERM during load: every answered request is in the billing log", "[oagd][drain]") {
  Gateway g;
  std::mutex mu;
  std::vector<std::string> ids;
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      auto c = g.client("alice@op-a.example");
      while (!stop) {
        const auto r =
            c->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka"})");
        if (r.status != 200) {
          if (r.status == 0 && !c->connect()) return;  // the server is gone
          continue;
        }
        std::lock_guard lk(mu);
        ids.push_back(json::parse(r.body).at("vectors").at(0).at("id"));
        ++answered;
      }
    });
  while (answered < 200) std::this_thread::yield();
  kill(g.pid, SIGTERM);
  int st = 0;
  waitpid(g.pid, &st, 0);
  g.pid = -1;
  stop = true;
  for (auto& t : threads) t.join();
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(g.dir.file("oag.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(
              db,
              "SELECT count(*) FROM vectors v JOIN billing b ON b.request_id = v.request_id "
              "WHERE v.id = ?1 AND b.event = 'issue'",
              -1, &q, nullptr) == SQLITE_OK);
  std::size_t missing = 0;
  for (const auto& id : ids) {
    sqlite3_bind_text(q, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    missing += sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int(q, 0) != 1;
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  CHECK(ids.size() >= 200);
  CHECK(missing == 0);
  CHECK(g.billing_records() >= ids.size());
}

TEST_CASE("slow clients are cut off and oversized headers get 431", "[oagd][limits]") {
  Gateway g;
  auto c = g.client("alice@op-a.example");
  REQUIRE(c->send_raw("POST /v1/vectors HTTP/1.1\r\nHost: local"));  // and then nothing
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(c->wait_closed());
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  auto big = g.client("alice@op-a.example");
  REQUIRE(big->send_raw("POST /v1/vectors HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                        std::string(20000, 'a') + "\r\nContent-Length: 2\r\n\r\n{}"));
  const auto r = big->request("GET", "/never-sent");  // reads the pending answer first
  (void)r;
  CHECK(test::http_get(g.ops_port, "/metrics").body.find("status=\"431\"") != std::string::npos);
}

namespace {

// The value of one metric line (`name{labels}`) on the ops listener, or -1 when absent.
long metric(const Gateway& g, const std::string& key) {
  const auto body = test::http_get(g.ops_port, "/metrics").body;
  const auto at = body.find(key + " ");
  return at == std::string::npos ? -1 : std::stol(body.substr(at + key.size() + 1));
}

// Polls a metric until it equals `want` (bounded: the daemon counts a close when it sees it).
bool metric_becomes(const Gateway& g, const std::string& key, long want) {
  for (int i = 0; i < 1000; ++i) {
    if (metric(g, key) == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace

TEST_CASE(
    "limits.max_connections: per listener, one more is closed at once, a freed slot is reused",
    "[oagd][limits]") {
  Gateway g("op-a.example", {"alice"}, 60000, [](json& c) { c["limits"]["max_connections"] = 8; });
  const std::string open_endpoint = "oag_open_connections{listener=\"endpoint\"}";
  std::vector<std::unique_ptr<test::TlsClient>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(g.client("alice@op-a.example"));
    REQUIRE(held.back()->connect());
  }
  REQUIRE(metric_becomes(g, open_endpoint, 8));
  // The ninth is accepted by the kernel and closed by oagd before its handshake completes.
  auto ninth = g.client("alice@op-a.example");
  CHECK_FALSE(ninth->connect());
  CHECK(metric(g, "oag_connections_refused_total{listener=\"endpoint\"}") == 1);
  // Per listener: the visitor listener still has its own eight.
  test::TlsClient visitor(g.visitor_port, g.home + "/endpoint-ca.pem");
  CHECK(visitor.connect());
  // The held connections still work; one closed frees a slot for a new one.
  const std::string body = R"({"nai":"alice@op-a.example","kind":"sim"})";
  CHECK(held.front()->request("POST", "/v1/vectors", body).status == 200);
  held.pop_back();
  REQUIRE(metric_becomes(g, open_endpoint, 7));
  auto again = g.client("alice@op-a.example");
  CHECK(again->request("POST", "/v1/vectors", body).status == 200);
  CHECK(g.log().find("connection limit reached") != std::string::npos);
}

TEST_CASE(
    "the descriptor limit is raised to what limits.max_connections needs, or oagd refuses to "
    "start naming the shortfall",
    "[oagd][limits]") {
  // Started with a soft limit of 512 (inherited from here), raised to 4 listeners × 1,000 + 256.
  rlimit was{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &was) == 0);
  rlimit low = was;
  low.rlim_cur = 512;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  Gateway g("op-a.example", {"alice"}, 60000,
            [](json& c) { c["limits"]["max_connections"] = 1000; });
  REQUIRE(setrlimit(RLIMIT_NOFILE, &was) == 0);
  std::ifstream limits("/proc/" + std::to_string(g.pid) + "/limits");
  std::string line;
  while (std::getline(limits, line) && line.rfind("Max open files", 0) != 0) {
  }
  std::istringstream fields(line.substr(std::string("Max open files").size()));
  unsigned long soft = 0;
  fields >> soft;
  CHECK(soft == 4256);
  g.stop();
  // A hard limit below the need: refused at start and by --check-config, naming the key.
  const std::string run = "ulimit -n 2000 && exec " + std::string(OAGD_PATH) + " --config " +
                          shell_quote(g.dir.file("test.json"));
  for (const std::string& cmd : {run, run + " --check-config"}) {
    const auto r = test::run_command("sh -c " + shell_quote(cmd));
    INFO(cmd << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("limits.max_connections: 1000 on each of 4 listeners needs 4256 file "
                     "descriptors") != std::string::npos);
    CHECK(r.err.find("the hard limit is 2000") != std::string::npos);
    CHECK(r.err.find("at most 436") != std::string::npos);
  }
}

namespace {

// A datagram socket of the test's own, at a path it names (systemd's NOTIFY_SOCKET, the
// journal's socket): what a daemon sends there, one datagram at a time.
class DatagramSocket {
 public:
  explicit DatagramSocket(const std::string& name) : path_(dir_.file(name)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path_.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    timeval tv{10, 0};  // a bound on a missing datagram, not a wait for readiness
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~DatagramSocket() { ::close(fd_); }
  DatagramSocket(const DatagramSocket&) = delete;
  DatagramSocket& operator=(const DatagramSocket&) = delete;
  const std::string& path() const { return path_; }
  // The next datagram; empty when none came within the bound.
  std::string recv() {
    std::string buf(65536, '\0');
    const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return buf;
  }

 private:
  test::TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST_CASE(
    "sd_notify: READY once every listener is bound, RELOADING then READY around SIGHUP, "
    "STOPPING on SIGTERM",
    "[oagd][systemd]") {
  // The supervisor's end: a datagram socket named by NOTIFY_SOCKET, as systemd gives a
  // Type=notify service.
  DatagramSocket notify("notify");
  const auto next = [&notify] { return notify.recv(); };
  ::setenv("NOTIFY_SOCKET", notify.path().c_str(), 1);
  Gateway g;
  ::unsetenv("NOTIFY_SOCKET");
  auto m = next();
  CHECK(m.find("READY=1") != std::string::npos);
  CHECK(m.find("STATUS=serving op-a.example") != std::string::npos);
  // READY came after the ports were printed, so every listener answers now.
  CHECK(test::http_get(g.ops_port, "/healthz").status == 200);
  REQUIRE(g.reload());
  CHECK(next().find("RELOADING=1") != std::string::npos);
  CHECK(next().find("READY=1") != std::string::npos);
  // A failed reload: RELOADING, then READY again (the running configuration still serves).
  g.write_config(json{{"realm", 42}});
  CHECK_FALSE(g.reload());
  CHECK(next().find("RELOADING=1") != std::string::npos);
  CHECK(next().find("READY=1") != std::string::npos);
  CHECK(g.stop() == 0);
  CHECK(next().find("STOPPING=1") != std::string::npos);
}

namespace {

// A journal's native socket of the test's own: the datagrams oagd sends, each as its fields.
class JournalSocket {
 public:
  const std::string& path() const { return socket_.path(); }
  // The next entry with OAG_EVENT = `event` (others are skipped); empty when none came.
  std::map<std::string, std::string> next(const std::string& event) {
    for (;;) {
      const std::string buf = socket_.recv();
      if (buf.empty()) return {};
      std::map<std::string, std::string> f;
      for (std::size_t at = 0; at < buf.size();) {
        const auto nl = buf.find('\n', at);
        const auto eq = buf.find('=', at);
        if (eq != std::string::npos && eq < nl) {
          f[buf.substr(at, eq - at)] = buf.substr(eq + 1, nl - eq - 1);
          at = nl + 1;
        } else {  // KEY, newline, 64-bit little-endian length, value, newline
          const std::string key = buf.substr(at, nl - at);
          std::uint64_t len = 0;
          for (int i = 0; i < 8; ++i)
            len |= std::uint64_t{static_cast<unsigned char>(buf[nl + 1 + i])} << (8 * i);
          f[key] = buf.substr(nl + 9, len);
          at = nl + 9 + len + 1;
        }
      }
      if (f["OAG_EVENT"] == event) return f;
    }
  }

 private:
  DatagramSocket socket_{"journal.socket"};
};

}  // namespace

TEST_CASE(
    "logging.format journal: priority, identifier, event, a stable MESSAGE_ID and the "
    "fields, chosen by itself when JOURNAL_STREAM names stderr",
    "[oagd][journal]") {
  JournalSocket journal;
  Gateway g("op-a.example", {"alice"}, 60000, [&](json& c) {
    c["logging"] = {
        {"format", "journal"}, {"journal_socket", journal.path()}, {"access_sample", 1}};
  });
  auto started = journal.next("OAG1001");
  CHECK(started["PRIORITY"] == "6");
  CHECK(started["SYSLOG_IDENTIFIER"] == "oagd");
  CHECK(started["OAG_REALM"] == "op-a.example");
  CHECK(started["MESSAGE"].find("OAG1001 oagd started") == 0);
  const std::string started_id = started["MESSAGE_ID"];
  CHECK(started_id.size() == 32);
  CHECK(started_id.find_first_not_of("0123456789abcdef") == std::string::npos);
  // A request: its access line (sampled 1 in 1) with the fields as OAG_<FIELD>.
  REQUIRE(g.client("alice@op-a.example")
              ->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})")
              .status == 200);
  auto access = journal.next("OAG2001");
  CHECK(access["OAG_ROUTE"] == "vectors");
  CHECK(access["OAG_STATUS"] == "200");
  CHECK(access["OAG_LATENCY_MS"].size() > 0);
  CHECK(access["MESSAGE_ID"] != started_id);
  // An error: priority 3. Nothing of it went to stderr.
  const auto good = g.config();
  g.write_config(json{{"realm", 42}});
  CHECK_FALSE(g.reload());
  auto failed = journal.next("OAG1006");
  CHECK(failed["PRIORITY"] == "3");
  CHECK(failed["OAG_ERROR"].find("realm: expected string") != std::string::npos);
  CHECK(g.log().find("OAG1006") == std::string::npos);
  g.stop();

  // Not configured, but started by systemd with stderr on the journal: the journal it is.
  // (The same MESSAGE_ID for the same event in another process.)
  auto c = good;
  c["logging"] = {{"journal_socket", journal.path()}};
  g.write_config(c);
  struct stat st {};
  {
    std::ofstream(g.dir.file("oagd.log"), std::ios::app).flush();
    REQUIRE(::stat(g.dir.file("oagd.log").c_str(), &st) == 0);
  }
  ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(),
           1);
  g.start();
  ::unsetenv("JOURNAL_STREAM");
  started = journal.next("OAG1001");
  CHECK(started["MESSAGE_ID"] == started_id);
  CHECK(g.stop() == 0);
}

TEST_CASE("every program prints its name and version with --version", "[oagd][version]") {
  for (const std::string program : {OAGD_PATH, OAGCTL_PATH, OAG_PHONE_PATH, OAG_BENCH_PATH}) {
    const auto r = test::run_command(program + " --version");
    INFO(program << ": " << r.out << r.err);
    CHECK(r.status == 0);
    const std::string name = program.substr(program.rfind('/') + 1);
    CHECK(r.out == name + " " + OAG_VERSION + "\n");
  }
}

TEST_CASE("SIGHUP reloads a good configuration and keeps the running one on a bad one",
          "[oagd][reload]") {
  Gateway g;
  const auto wait_log = [&](const std::string& what) {
    for (int i = 0; i < 500; ++i) {
      if (g.log().find(what) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a log file, bounded
    }
    return false;
  };
  auto c = json::parse(std::ifstream(g.dir.file("test.json")));
  c["logging"] = {{"level", "info"}, {"format", "json"}, {"access_sample", 1}};
  std::ofstream(g.dir.file("test.json")) << c.dump();
  kill(g.pid, SIGHUP);
  CHECK(wait_log("OAG1005"));
  std::ofstream(g.dir.file("test.json")) << "{\"realm\": 42}";
  kill(g.pid, SIGHUP);
  CHECK(wait_log("OAG1006"));
  CHECK(g.log().find("realm: expected string") != std::string::npos);
  const auto r =
      g.client("alice@op-a.example")
          ->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})");
  CHECK(r.status == 200);
  CHECK(wait_log("\"event\":\"OAG2001\""));  // the reloaded JSON log format is in force
  CHECK(g.stop() == 0);
}

TEST_CASE("config: unknown keys and wrong types are named by JSON path and --check-config",
          "[oagd][config]") {
  Gateway g;
  g.stop();
  auto base = json::parse(std::ifstream(g.dir.file("test.json")));
  const auto check = [&](const json& c) {
    std::ofstream(g.dir.file("bad.json")) << c.dump();
    return test::run_command(std::string(OAGD_PATH) + " --check-config --config " +
                             shell_quote(g.dir.file("bad.json")));
  };
  auto r = check(base);
  CHECK(r.status == 0);
  auto c = base;
  c["listeners"]["endpoint"]["port"] = "8443";
  r = check(c);
  CHECK(r.status == 2);
  CHECK(r.err.find("listeners.endpoint.port: expected integer") != std::string::npos);
  c = base;
  c["limits"]["bodybytes"] = 1;
  r = check(c);
  CHECK(r.status == 2);
  CHECK(r.err.find("limits.bodybytes: unknown key") != std::string::npos);
  c = base;
  c["listeners"]["endpoint"]["key"] = g.dir.file("federation.key");
  r = check(c);
  CHECK(r.status == 2);
  CHECK(r.err.find("listeners.endpoint.key: does not match") != std::string::npos);
  c = base;
  c.erase("realm");
  r = check(c);
  CHECK(r.err.find("realm: required") != std::string::npos);
  c = base;
  c["logging"] = {{"format", "xml"}};
  CHECK(check(c).err.find("logging.format") != std::string::npos);
}

TEST_CASE("round trip: oagctl import, oagd issues, oagctl exports and verifies the billing",
          "[oagd][oagctl]") {
  Gateway g;
  const auto csv = g.dir.file("more.csv");
  {
    std::ofstream out(csv);
    out << "nai,imsi,k,op\n";
    for (int i = 0; i < 50; ++i)
      out << "s" << i << "@op-a.example,00101" << 2000000000 + i << "," << kK << "," << kOp << "\n";
  }
  CHECK(g.ctl_json("subscriber import " + shell_quote(csv)).at("imported") == 50);
  auto c = g.client("alice@op-a.example");
  for (int i = 0; i < 10; ++i) {
    const auto body = json{{"nai", "s" + std::to_string(i) + "@op-a.example"},
                           {"kind", i % 2 ? "sim" : "aka"},
                           {"count", 2}};
    REQUIRE(c->request("POST", "/v1/vectors", body.dump()).status == 200);
  }
  const auto r = test::run_command(std::string(OAGCTL_PATH) + " --config " + g.cfg +
                                   " billing export --format jsonl --role local");
  REQUIRE(r.status == 0);
  std::vector<json> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  REQUIRE(lines.size() == 11);
  CHECK(lines.back().at("summary").at("records") == 10);
  CHECK(lines.front().at("requester") == "alice@op-a.example");
  CHECK(lines.front().at("count") == 2);
  CHECK(r.out.find(kK) == std::string::npos);
  const auto v = g.ctl_json("billing verify");
  CHECK(v.at("ok") == true);
  CHECK(v.at("records") == 10);
  REQUIRE(v.at("chains").size() == 1);
  CHECK(v.at("chains")[0].at("chain") == "main");
  CHECK(v.at("chains")[0].at("head_hash") ==
        lines.back().at("summary").at("chains")[0].at("head_hash"));
}
