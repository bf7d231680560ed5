// Two real oagd processes (op-a, op-b), each with its own endpoint and federation CAs made at
// test time: brokering under agreements, enforcement on the issuing side, failures of the peer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "proto/aka/hex.hpp"
#include "proto/aka/usim.hpp"
#include "tests/integration/gateway_process.hpp"
#include "tests/integration/tcp_proxy.hpp"

using namespace oag;
using nlohmann::json;
using test::agree;
using test::fed_url;
using test::Gateway;
using test::shell_quote;

namespace {

// Calls the issuing side directly, as a peer AG would, with `as`'s federation certificate.
test::HttpReply fed_call(const Gateway& issuer, const Gateway& as, const json& body) {
  test::TlsClient c(issuer.federation_port, issuer.dir.file("federation-ca.pem"),
                    as.dir.file("federation.pem"), as.dir.file("federation.key"));
  return c.request("POST", "/v1/federation/vectors", body.dump());
}

json fed_body(const std::string& nai, unsigned count = 1, const std::string& id = "") {
  static int n = 0;
  char uuid[40];
  std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", ++n);
  return {{"nai", nai},
          {"kind", "aka"},
          {"count", count},
          {"requester", "alice@op-a.example"},
          {"request_id", id.empty() ? std::string(uuid) : id}};
}

std::string code_of(const test::HttpReply& r) {
  return test::problem_code(r.body);
}

}  // namespace

TEST_CASE(
    "alice gets bob's vector through both gateways and bob gets alice's and billing reconciles",
    "[federation]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  agree(a, "a-b", b);
  agree(b, "b-a", a);

  auto r =
      a.client("alice@op-a.example")
          ->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"aka","count":2})");
  INFO(r.body << a.log() << b.log());
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(j.at("issuer") == "op-b.example");
  aka::UsimSqnState usim;
  for (const auto& v : j.at("vectors")) {
    const auto out = aka::usim_run_aka(
        test::subscriber_keys(), *aka::from_hex_fixed<16>(v.at("rand").get<std::string>()),
        *aka::from_hex_fixed<16>(v.at("autn").get<std::string>()), usim);
    REQUIRE(std::holds_alternative<aka::AkaSuccess>(out));
    CHECK(aka::to_hex(std::get<aka::AkaSuccess>(out).res.expose()) == v.at("xres"));
  }
  r = b.client("bob@op-b.example")
          ->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body).at("issuer") == "op-a.example");

  // Each side: one sold and one bought record, the same request ids on both sides.
  const auto export_of = [](const Gateway& g) {
    const auto file = g.dir.file("bill.csv");
    test::ctl_ok("--config " + g.cfg + " billing export --output " + shell_quote(file));
    return file;
  };
  const auto ea = export_of(a), eb = export_of(b);
  const auto rec =
      test::run_command(std::string(OAGCTL_PATH) + " --json --config " + a.cfg +
                        " billing reconcile " + shell_quote(ea) + " " + shell_quote(eb));
  INFO(rec.out << rec.err);
  CHECK(rec.status == 0);
  CHECK(json::parse(rec.out).at("matched") == 2);
  CHECK(a.ctl_json("billing verify").at("ok") == true);
  CHECK(b.ctl_json("billing verify").at("ok") == true);
  CHECK(a.log().find(json::parse(r.body).at("vectors").at(0).at("kc").get<std::string>()) ==
        std::string::npos);
}

TEST_CASE("broker side: no agreement, revoked, expired or wrong kind is 403 no-agreement",
          "[federation]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  auto alice = a.client("alice@op-a.example");
  const auto ask = [&](const std::string& kind) {
    return alice->request("POST", "/v1/vectors",
                          json{{"nai", "bob@op-b.example"}, {"kind", kind}}.dump());
  };
  CHECK(code_of(ask("aka")) == "no-agreement");
  agree(a, "a-b", b, "--kinds sim");
  agree(b, "b-a", a);
  CHECK(ask("sim").status == 200);
  CHECK(code_of(ask("aka")) == "no-agreement");  // kind not agreed
  test::ctl_ok("--config " + a.cfg + " agreement revoke --id a-b");
  CHECK(code_of(ask("sim")) == "no-agreement");
  agree(a, "a-b-old", b, "--valid-from 2020-01-01 --valid-until 2021-01-01");
  CHECK(code_of(ask("sim")) == "no-agreement");  // expired
  CHECK(b.billing_records() == 1);
}

TEST_CASE("issuing side: untrusted peer, foreign realm, rate and quota", "[federation]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  Gateway x("op-x.example", {"xavier"});
  agree(b, "b-a", a, "--rate 0.01 --burst 2");  // refills one vector per 100 s: no timing race

  // A certificate no agreement trusts (op-x's federation CA) → 403 before anything is issued.
  auto r = fed_call(b, x, fed_body("bob@op-b.example"));
  CHECK(r.status == 403);
  CHECK(code_of(r) == "no-agreement");
  // ...whatever its body: a peer is authenticated before its body is read, so an untrusted one
  // learns nothing about the API's fields; a trusted one is told which field is wrong.
  const auto raw = [&](const Gateway& as, const std::string& body, const std::string& type) {
    test::TlsClient c(b.federation_port, b.dir.file("federation-ca.pem"),
                      as.dir.file("federation.pem"), as.dir.file("federation.key"));
    return c.request("POST", "/v1/federation/vectors", body, type);
  };
  for (const auto& [body, type] :
       std::vector<std::pair<std::string, std::string>>{{"{not json", "application/json"},
                                                        {R"({"nai":1})", "application/json"},
                                                        {"x", "text/plain"}}) {
    const auto refused = raw(x, body, type);
    CHECK(refused.status == 403);
    CHECK(code_of(refused) == "no-agreement");
    CHECK(refused.body.find("certificate: not trusted") != std::string::npos);
  }
  const auto field = raw(a, R"({"nai":1})", "application/json");
  CHECK(field.status == 400);
  CHECK(json::parse(field.body).at("detail").get<std::string>().rfind("nai:", 0) == 0);
  CHECK(raw(a, "x", "text/plain").status == 415);
  // The trusted peer asking for a subscriber of another realm.
  r = fed_call(b, a, fed_body("carol@op-c.example"));
  CHECK(r.status == 403);
  CHECK(code_of(r) == "not-our-subscriber");
  // Rate: a bucket of 2 vectors.
  CHECK(fed_call(b, a, fed_body("bob@op-b.example")).status == 200);
  CHECK(fed_call(b, a, fed_body("bob@op-b.example")).status == 200);
  r = fed_call(b, a, fed_body("bob@op-b.example"));
  CHECK(r.status == 429);
  CHECK(code_of(r) == "rate-limited");
  CHECK(r.headers.count("retry-after") == 1);
  CHECK(b.billing_records() == 2);

  // Quota: 4 a day under a fresh agreement.
  test::ctl_ok("--config " + b.cfg + " agreement revoke --id b-a");
  agree(b, "b-a-quota", a, "--rate 1000 --burst 1000 --quota 4 --period day");
  CHECK(fed_call(b, a, fed_body("bob@op-b.example", 2)).status == 200);
  CHECK(fed_call(b, a, fed_body("bob@op-b.example", 2)).status == 200);
  r = fed_call(b, a, fed_body("bob@op-b.example", 1));
  CHECK(r.status == 429);
  CHECK(code_of(r) == "quota-exhausted");
  CHECK(b.billing_records() == 4);

  // A retry with the same request_id returns the stored answer and bills nothing.
  test::ctl_ok("--config " + b.cfg + " agreement revoke --id b-a-quota");
  agree(b, "b-a-open", a);
  const auto body = fed_body("bob@op-b.example", 1, "11111111-2222-4333-8444-555555555555");
  const auto first = fed_call(b, a, body);
  const auto again = fed_call(b, a, body);
  REQUIRE(first.status == 200);
  CHECK(again.status == 200);
  CHECK(json::parse(first.body).at("vectors") == json::parse(again.body).at("vectors"));
  CHECK(b.billing_records() == 5);
}

TEST_CASE(
    "peer down is 503 within the connect timeout, a stalled peer 504 within the total timeout",
    "[federation]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  const unsigned short down_port = b.federation_port;
  b.stop();
  test::ctl_ok("--config " + a.cfg +
               " agreement add --id a-b --realm op-b.example --url https://127.0.0.1:" +
               std::to_string(down_port) + " --ca-file " +
               shell_quote(b.dir.file("federation-ca.pem")));
  auto alice = a.client("alice@op-a.example");
  auto t0 = std::chrono::steady_clock::now();
  auto r = alice->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"aka"})");
  CHECK(r.status == 503);
  CHECK(code_of(r) == "peer-unavailable");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1500));

  // A peer that accepts and never answers.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 16) == 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  test::ctl_ok("--config " + a.cfg + " agreement revoke --id a-b");
  test::ctl_ok("--config " + a.cfg +
               " agreement add --id a-b-2 --realm op-b.example --url https://127.0.0.1:" +
               std::to_string(ntohs(addr.sin_port)) + " --ca-file " +
               shell_quote(b.dir.file("federation-ca.pem")));
  t0 = std::chrono::steady_clock::now();
  r = alice->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"aka"})");
  const auto took = std::chrono::steady_clock::now() - t0;
  ::close(listener);
  CHECK(r.status == 504);
  CHECK(code_of(r) == "peer-timeout");
  CHECK(took < std::chrono::milliseconds(3000));
  CHECK(a.billing_records() == 0);
}

TEST_CASE("a peer with a certificate of another CA or a wrong pin is refused", "[federation]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  agree(b, "b-a", a);
  // A trusts the wrong CA for op-b (its own federation CA).
  test::ctl_ok("--config " + a.cfg + " agreement add --id a-b --realm op-b.example --url " +
               fed_url(b) + " --ca-file " + shell_quote(a.dir.file("federation-ca.pem")));
  auto alice = a.client("alice@op-a.example");
  auto r = alice->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"aka"})");
  CHECK(r.status == 503);
  CHECK(a.log().find("not trusted by agreement a-b") != std::string::npos);
  test::ctl_ok("--config " + a.cfg + " agreement revoke --id a-b");
  test::ctl_ok("--config " + a.cfg + " agreement add --id a-b-pin --realm op-b.example --url " +
               fed_url(b) + " --spki-pin " + std::string(64, 'a'));
  r = alice->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"aka"})");
  CHECK(r.status == 503);
  CHECK(b.billing_records() == 0);
}

TEST_CASE(
    "a connection cut after the issuer committed: the retry gets the same vectors, billed once",
    "[federation]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  test::TcpProxy proxy(b.federation_port);
  agree(a, "a-b", b, "", "https://127.0.0.1:" + std::to_string(proxy.port()));  // through it
  agree(b, "b-a", a);
  auto alice = a.client("alice@op-a.example");
  const std::string ask = R"({"nai":"bob@op-b.example","kind":"aka"})";
  // The first call opens the pooled connection; the second goes over it and loses its answer.
  REQUIRE(alice->request("POST", "/v1/vectors", ask).status == 200);
  const auto sqn_before = b.sqn_of("bob@op-b.example");
  proxy.set_mode(test::TcpProxy::Mode::cut_answer);
  const auto r = alice->request("POST", "/v1/vectors", ask);
  INFO(r.body << a.log() << b.log());
  REQUIRE(r.status == 200);
  CHECK(proxy.cuts() == 1);
  CHECK(proxy.accepted() == 2);  // the retry came on a fresh connection
  // The issuer issued once for that request (one SQN step), both sides billed once more.
  CHECK(b.sqn_of("bob@op-b.example") - sqn_before == 1);  // one SEQ step
  CHECK(a.billing_records() == 2);
  CHECK(b.billing_records() == 2);
  // The vector alice got is the one the issuer billed: its RAND hash is in op-b's export.
  const auto v = json::parse(r.body).at("vectors").at(0);
  const auto rand = *aka::from_hex_fixed<16>(v.at("rand").get<std::string>());
  unsigned char h[32];
  SHA256(rand.data(), rand.size(), h);
  const auto file = b.dir.file("bill.jsonl");
  test::ctl_ok("--config " + b.cfg + " billing export --format jsonl --output " +
               shell_quote(file));
  std::ifstream in(file);
  std::stringstream all;
  all << in.rdbuf();
  CHECK(all.str().find(aka::to_hex(std::span<const std::uint8_t>(h, 32))) != std::string::npos);
  aka::UsimSqnState usim;
  const auto out =
      aka::usim_run_aka(test::subscriber_keys(), rand,
                        *aka::from_hex_fixed<16>(v.at("autn").get<std::string>()), usim);
  CHECK(std::holds_alternative<aka::AkaSuccess>(out));
}

TEST_CASE("a failing peer opens the circuit breaker and a successful probe closes it",
          "[federation]") {
  Gateway a("op-a.example", {"alice"}, 400);  // breaker: 3 failures, open for 400 ms
  Gateway b("op-b.example", {"bob"});
  test::TcpProxy proxy(b.federation_port);
  agree(a, "a-b", b, "", "https://127.0.0.1:" + std::to_string(proxy.port()));  // through it
  agree(b, "b-a", a);
  auto alice = a.client("alice@op-a.example");
  const auto ask = [&] {
    return alice->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"sim"})");
  };
  proxy.set_mode(test::TcpProxy::Mode::refuse);
  for (int i = 0; i < 3; ++i) {
    const auto r = ask();
    CHECK(r.status == 503);
    CHECK(json::parse(r.body).at("detail") == "peer: cannot connect");
  }
  const unsigned tried = proxy.accepted();
  CHECK(tried == 3);
  // Open: fails fast without calling the peer.
  auto r = ask();
  CHECK(r.status == 503);
  CHECK(code_of(r) == "peer-unavailable");
  CHECK(json::parse(r.body).at("detail").get<std::string>().find("failed repeatedly") !=
        std::string::npos);
  CHECK(proxy.accepted() == tried);
  // After the open period one probe goes through; it fails, so the circuit opens again.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the open period, not readiness
  CHECK(ask().status == 503);
  CHECK(proxy.accepted() == tried + 1);
  CHECK(ask().status == 503);
  CHECK(proxy.accepted() == tried + 1);
  // The peer is back: the next probe succeeds and closes the circuit.
  proxy.set_mode(test::TcpProxy::Mode::pass);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  r = ask();
  INFO(r.body << a.log());
  CHECK(r.status == 200);
  CHECK(ask().status == 200);
  CHECK(a.billing_records() == 2);
  CHECK(b.billing_records() == 2);
}

namespace {

// The value of the first /metrics line that starts with `key` followed by a space, or -1.
double metric(const std::string& body, const std::string& key) {
  const auto at = body.find("\n" + key + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + key.size() + 2));
}

}  // namespace

TEST_CASE(
    "metrics after real traffic: build, process, peers, breaker, store commits, reloads, "
    "and promtool accepts them",
    "[federation][metrics]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  agree(a, "a-b", b);
  agree(b, "b-a", a);
  auto alice = a.client("alice@op-a.example");
  const auto ask = [&] {
    return alice->request("POST", "/v1/vectors", R"({"nai":"bob@op-b.example","kind":"aka"})");
  };
  for (int i = 0; i < 3; ++i) REQUIRE(ask().status == 200);
  REQUIRE(a.reload());
  // The peer goes away: three failures (breaker_failures) open op-a's breaker for a-b.
  b.stop();
  for (int i = 0; i < 3; ++i) CHECK(ask().status == 503);
  const auto body = test::http_get(a.ops_port, "/metrics").body;
  INFO(body);
  CHECK(metric(body, "oag_build_info{version=\"0.1.0\"}") == 1);
  CHECK(metric(body, "process_open_fds") > 5);
  CHECK(metric(body, "process_max_fds") >= 4 * 4096 + 256);  // raised at start
  CHECK(metric(body, "process_resident_memory_bytes") > 1e6);
  CHECK(metric(body, "process_cpu_seconds_total") > 0);
  CHECK(metric(body, "process_start_time_seconds") > 1.7e9);
  CHECK(metric(body, "oag_peer_requests_total{agreement=\"a-b\",outcome=\"ok\"}") == 3);
  CHECK(metric(body, "oag_peer_requests_total{agreement=\"a-b\",outcome=\"connect\"}") == 3);
  CHECK(metric(body, "oag_peer_request_duration_seconds_count{agreement=\"a-b\"}") == 6);
  CHECK(metric(body, "oag_peer_breaker_open{agreement=\"a-b\"}") == 1);
  CHECK(metric(body, "oag_store_commit_duration_seconds_count") >= 3);  // one per bought record
  CHECK(metric(body, "oag_store_commit_duration_seconds_sum") > 0);
  CHECK(metric(body, "oag_config_reloads_total{result=\"success\"}") == 1);
  // promtool (Prometheus's own checker) reads the exposition: format and naming conventions.
  const auto file = a.dir.file("metrics.txt");
  std::ofstream(file) << body;
  const auto r = test::run_command("promtool check metrics < " + shell_quote(file));
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
}

TEST_CASE("issuing side with federation.instances = 2: each instance admits half the rate",
          "[federation][instances]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"}, 60000, [](json& c) { c["federation"]["instances"] = 2; });
  agree(b, "b-a", a, "--rate 0.01 --burst 4");  // 4 at once for the operator, 2 per instance
  CHECK(fed_call(b, a, fed_body("bob@op-b.example")).status == 200);
  CHECK(fed_call(b, a, fed_body("bob@op-b.example")).status == 200);
  const auto r = fed_call(b, a, fed_body("bob@op-b.example"));
  CHECK(r.status == 429);
  CHECK(code_of(r) == "rate-limited");
  CHECK(b.billing_records() == 2);
}
