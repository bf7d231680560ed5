// The front door through real processes: the visitor listener, the request boundary (a handler
// that throws or hangs in a real oagd), SIGHUP reloading what it says it reloads, and oagctl
// reading oagd.json with oagd's own reader.
#include <signal.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <fstream>

#include "tests/integration/gateway_process.hpp"

using namespace oag;
using nlohmann::json;
using test::ctl_ok;
using test::fed_url;
using test::Gateway;
using test::shell_quote;

namespace {

std::string code_of(const test::HttpReply& r) {
  return test::problem_code(r.body);
}

long metric(const Gateway& g, const std::string& key) {
  const auto body = test::http_get(g.ops_port, "/metrics").body;
  const auto at = body.find("\n" + key + " ");  // a sample line, not its # HELP
  return at == std::string::npos ? -1 : std::stol(body.substr(at + key.size() + 2));
}

std::unique_ptr<test::TlsClient> visitor(const Gateway& g) {
  // No client certificate: the visitor listener authenticates the server only.
  return std::make_unique<test::TlsClient>(g.visitor_port, g.dir.file("endpoint-ca.pem"));
}

}  // namespace

TEST_CASE("visitor listener: M1 without a client certificate and no endpoint or federation route",
          "[oagd][visitor]") {
  Gateway g;
  REQUIRE(g.visitor_port != 0);
  auto v = visitor(g);
  const auto r = v->request("GET", "/v1/agent");
  INFO(r.body);
  REQUIRE(r.status == 200);
  const auto j = json::parse(r.body);
  CHECK(j.at("realm") == "op-a.example");
  CHECK(std::abs(j.at("time").get<long>() - static_cast<long>(std::time(nullptr))) <= 5);
  // Every endpoint and federation route is unknown here, whatever the body.
  const json ask = {{"nai", "alice@op-a.example"}, {"kind", "aka"}};
  for (const char* path :
       {"/v1/vectors", "/v1/resync", "/v1/vectors/x/result", "/v1/federation/vectors"}) {
    INFO(path);
    const auto refused = v->request("POST", path, ask.dump());
    CHECK(refused.status == 404);
    CHECK(code_of(refused) == "not-found");
  }
  CHECK(v->request("POST", "/v1/agent", "{}").status == 405);
  CHECK(g.billing_records() == 0);
  // The handshake asks for no client certificate (openssl s_client as the independent check),
  // while the endpoint listener asks for one of our endpoint CA.
  const auto probe = [&](unsigned short port) {
    return test::run_command("openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                             " -CAfile " + shell_quote(g.dir.file("endpoint-ca.pem")) +
                             " </dev/null")
        .out;
  };
  CHECK(probe(g.visitor_port).find("No client certificate CA names sent") != std::string::npos);
  CHECK(probe(g.endpoint_port).find("Acceptable client certificate CA names") != std::string::npos);
  // The endpoint listener still refuses a client without a certificate.
  test::TlsClient anonymous(g.endpoint_port, g.dir.file("endpoint-ca.pem"));
  CHECK(anonymous.request("GET", "/v1/agent").status == 0);
  // The visitor listener has the same limits and metrics as the others.
  CHECK(v->request("GET", "/v1/agent", std::string(2000, 'x')).status == 413);
  CHECK(metric(g, "oag_requests_total{listener=\"visitor\",route=\"agent\",status=\"200\"}") == 1);
  CHECK(g.stop() == 0);
}

TEST_CASE("a handler that throws is one 500 and the daemon serves the next request and drains",
          "[oagd][boundary]") {
  Gateway g("op-a.example", {"alice"}, 60000, {}, OAGD_FAULTS_PATH);
  auto v = visitor(g);
  for (const char* path : {"/test/throw", "/test/throw-offloaded"}) {
    INFO(path);
    const auto r = v->request("GET", path);
    CHECK(r.status == 500);
    CHECK(code_of(r) == "internal");
    const std::string detail = json::parse(r.body).at("detail");
    CHECK(detail.rfind("incident ", 0) == 0);
    CHECK(r.body.find("boom") == std::string::npos);  // the cause stays in the log
    // Same connection, next request.
    CHECK(v->request("GET", "/v1/agent").status == 200);
  }
  // Other connections and listeners are unaffected.
  CHECK(g.client("alice@op-a.example")
            ->request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})")
            .status == 200);
  const auto log = g.log();
  CHECK(log.find("OAG3002") != std::string::npos);
  CHECK(log.find("boom: thrown by a handler") != std::string::npos);
  CHECK(log.find("boom: thrown on a store thread") != std::string::npos);
  CHECK(log.find("OAG3001") == std::string::npos);  // not a store failure
  CHECK(metric(g, "oag_open_connections{listener=\"visitor\"}") == 1);
  v.reset();
  CHECK(g.stop() == 0);  // SIGTERM drains and exits cleanly
}

TEST_CASE("a handler that never answers gets 503 at its deadline and the connection closes",
          "[oagd][boundary]") {
  Gateway g(
      "op-a.example", {"alice"}, 60000, [](json& c) { c["limits"]["handler_timeout_ms"] = 300; },
      OAGD_FAULTS_PATH);
  auto v = visitor(g);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = v->request("GET", "/test/hang");
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(r.status == 503);
  CHECK(code_of(r) == "handler-timeout");
  CHECK(r.headers.at("connection") == "close");
  CHECK(v->wait_closed());
  CHECK(waited >= std::chrono::milliseconds(300));
  CHECK(metric(g, "oag_handler_timeouts_total{listener=\"visitor\"}") == 1);
  CHECK(g.log().find("OAG3003") != std::string::npos);
  // A request that hangs while SIGTERM arrives does not hang the drain.
  auto w = visitor(g);
  REQUIRE(w->connect());
  REQUIRE(w->send_raw("GET /test/hang HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(visitor(g)->request("GET", "/v1/agent").status == 200);  // the hang is in flight
  CHECK(g.stop() == 0);
}

TEST_CASE(
    "SIGHUP: authorization_cache_ms takes effect on an open connection and a bad file keeps "
    "the running configuration",
    "[oagd][reload]") {
  Gateway g("op-a.example", {"alice", "dave"}, 60000,
            [](json& c) { c["limits"]["authorization_cache_ms"] = 60000; });
  auto c = g.client("dave@op-a.example");
  const std::string ask = R"({"nai":"alice@op-a.example","kind":"sim"})";
  REQUIRE(c->request("POST", "/v1/vectors", ask).status == 200);
  ctl_ok("--config " + g.cfg + " subscriber disable --nai dave@op-a.example");
  // Within a minute the connection reuses its verdict.
  CHECK(c->request("POST", "/v1/vectors", ask).status == 200);
  // A broken file: refused, counted, and nothing changes.
  const auto good = g.config();
  std::ofstream(g.dir.file("test.json")) << "{\"realm\": ";
  CHECK_FALSE(g.reload());
  CHECK(metric(g, "oag_config_last_reload_successful") == 0);
  CHECK(g.log().find("OAG1006") != std::string::npos);
  CHECK(c->request("POST", "/v1/vectors", ask).status == 200);
  // The cache switched off: the very next request on the same connection asks the store.
  auto next = good;
  next["limits"]["authorization_cache_ms"] = 0;
  next["listeners"]["endpoint"]["port"] = 1;  // not reloadable: kept, and named in a warning
  g.write_config(next);
  CHECK(g.reload());
  CHECK(metric(g, "oag_config_last_reload_successful") == 1);
  const auto refused = c->request("POST", "/v1/vectors", ask);
  CHECK(refused.status == 403);
  CHECK(code_of(refused) == "requester-not-allowed");
  CHECK(g.log().find("OAG1008") != std::string::npos);
  CHECK(g.log().find("listeners.endpoint") != std::string::npos);
  CHECK(g.client("alice@op-a.example")->request("POST", "/v1/vectors", ask).status == 200);
  CHECK(g.stop() == 0);
}

TEST_CASE("SIGHUP: the outbound federation certificate is replaced and the peer sees the new one",
          "[oagd][reload][federation]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  // A second federation certificate for op-a, made with openssl from op-a's federation CA.
  const auto d = [&](const char* f) { return shell_quote(a.dir.file(f)); };
  std::ofstream(a.dir.file("ext.cnf"))
      << "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n"
         "keyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n";
  REQUIRE(test::run_command("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                            "-subj /CN=ag.op-a.example -keyout " +
                            d("fed2.key") + " -out " + d("fed2.csr"))
              .status == 0);
  REQUIRE(test::run_command("openssl x509 -req -in " + d("fed2.csr") + " -CA " +
                            d("federation-ca.pem") + " -CAkey " + d("federation-ca.key") +
                            " -set_serial 77 -days 1 -extfile " + d("ext.cnf") + " -out " +
                            d("fed2.pem"))
              .status == 0);
  const auto pin = test::run_command("openssl pkey -in " + d("fed2.key") +
                                     " -pubout -outform DER | openssl dgst -sha256 -r")
                       .out.substr(0, 64);
  // op-b trusts op-a only by the pin of the new certificate; op-a trusts op-b by its CA.
  ctl_ok("--config " + b.cfg + " agreement add --id b-a --realm op-a.example --url " + fed_url(a) +
         " --spki-pin " + pin + " --price 0.015");
  test::agree(a, "a-b", b);
  auto alice = a.client("alice@op-a.example");
  const std::string ask = R"({"nai":"bob@op-b.example","kind":"aka"})";
  const auto before = alice->request("POST", "/v1/vectors", ask);
  CHECK(before.status == 502);  // op-b refused the old certificate
  CHECK(b.billing_records() == 0);
  auto c = a.config();
  c["listeners"]["federation"]["cert"] = a.dir.file("fed2.pem");
  c["listeners"]["federation"]["key"] = a.dir.file("fed2.key");
  a.write_config(c);
  REQUIRE(a.reload());
  const auto after = alice->request("POST", "/v1/vectors", ask);
  INFO(after.body << a.log());
  CHECK(after.status == 200);
  CHECK(b.billing_records() == 1);
  CHECK(a.billing_records() == 1);
  // op-a's federation listener serves the new certificate too.
  const auto served =
      test::run_command("openssl s_client -connect 127.0.0.1:" + std::to_string(a.federation_port) +
                        " </dev/null 2>/dev/null | openssl x509 -noout -serial");
  CHECK(served.out.find("serial=4D") != std::string::npos);  // 77
}

TEST_CASE("oagctl reads oagd.json with oagd's reader: a bad file is exit 2 naming its JSON path",
          "[oagctl][config]") {
  Gateway g("op-a.example", {"alice"});
  auto c = g.config();
  c["store"]["ind_slot"] = 5000;
  std::ofstream(g.dir.file("bad.json")) << c.dump();
  const auto r = test::run_command(std::string(OAGCTL_PATH) + " --config " +
                                   shell_quote(g.dir.file("bad.json")) + " subscriber list");
  CHECK(r.status == 2);
  CHECK(r.err.find("store.ind_slot: must be 0..1023") != std::string::npos);
  const auto same = test::run_command(std::string(OAGD_PATH) + " --check-config --config " +
                                      shell_quote(g.dir.file("bad.json")));
  CHECK(same.status == 2);
  CHECK(same.err.find("store.ind_slot: must be 0..1023") != std::string::npos);
  std::ofstream(g.dir.file("bad.json")) << "{\"realm\": [";
  const auto broken = test::run_command(std::string(OAGCTL_PATH) + " --config " +
                                        shell_quote(g.dir.file("bad.json")) + " subscriber list");
  CHECK(broken.status == 2);
  CHECK(broken.err.find("not valid JSON") != std::string::npos);
  c = g.config();
  c["pki"]["bogus"] = "x";
  std::ofstream(g.dir.file("bad.json")) << c.dump();
  CHECK(test::run_command(std::string(OAGCTL_PATH) + " --config " +
                          shell_quote(g.dir.file("bad.json")) + " subscriber list")
            .err.find("pki.bogus: unknown key") != std::string::npos);
}
