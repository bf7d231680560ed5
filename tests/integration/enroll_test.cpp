// SIM enrollment (DESIGN §9) against a real oagd over real TLS: HTTP Digest AKA on the visitor
// listener, the certificate it issues used on the endpoint listener, and every refusal.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "client/enroll.hpp"
#include "proto/aka/hex.hpp"
#include "proto/digest/digest.hpp"
#include "proto/pki/csr.hpp"
#include "proto/pki/x509.hpp"
#include "tests/integration/gateway_process.hpp"
#include "tests/unit/support/postgres.hpp"

using namespace oag;
using nlohmann::json;
using test::ctl_ok;
using test::Gateway;
using test::shell_quote;

namespace {

client::HttpsOptions visitor_options(const Gateway& g) {
  client::HttpsOptions o;
  o.port = g.visitor_port;
  o.ca_file = g.dir.file("endpoint-ca.pem");
  return o;
}

// A SIM profile for `user` with the test K/OP (or another K) in the gateway's directory.
client::SoftSim sim_for(const Gateway& g, const std::string& user, const std::string& k = test::kK,
                        const std::string& tag = "") {
  const auto path = g.dir.file(user + tag + ".sim.json");
  std::ofstream(path) << json{{"imsi", "001010000000001"}, {"k", k}, {"op", test::kOp}}.dump();
  return client::SoftSim::load(path);
}

std::string code_of(const client::HttpsReply& r) {
  return test::problem_code(r.body);
}

// One Digest exchange by hand, to send what a correct client never would.
struct Exchange {
  Exchange(client::HttpsClient& h, std::string n, std::string c)
      : https(h), nai(std::move(n)), csr(std::move(c)) {}
  client::HttpsClient& https;
  std::string nai;
  std::string csr;
  digest::Exchange x;
  std::string opaque;
  aka::Bytes<16> rand{}, autn{};

  client::HttpsReply send(const std::string& authorization, const std::string& body) {
    return https.request("POST", "/v1/enroll", body, "application/pkcs10",
                         {{"Authorization", authorization}});
  }
  // The first request: our NAI, an empty nonce.
  client::HttpsReply start() {
    x.username = nai;
    x.realm = std::string(ident::realm_of(nai));
    x.uri = "/v1/enroll";
    const auto r = send(digest::authorization(x, "", ""), csr);
    take(r);
    return r;
  }
  void take(const client::HttpsReply& r) {
    if (r.status != 401 || !r.headers.count("www-authenticate")) return;
    std::string why;
    const auto p = digest::parse(r.headers.at("www-authenticate"), why);
    REQUIRE(p);
    x.nonce = p->at("nonce");
    opaque = p->at("opaque");
    const auto n = digest::parse_aka_nonce(x.nonce);
    REQUIRE(n);
    rand = n->first;
    autn = n->second;
    x.nc = "00000001";
    x.cnonce = "0a1b2c3d4e5f6071";
  }
  client::HttpsReply answer(aka::ByteView res, const std::string& body_signed,
                            const std::string& body_sent) {
    return send(digest::authorization(x, digest::response(x, res, "POST", body_signed), opaque),
                body_sent);
  }
};

// One enrollment of `nai` with `sim` through the visitor listener, the way a client does it.
client::Expected<client::Enrolled> enroll_with(const Gateway& g, client::SoftSim& sim,
                                               const std::string& nai = "alice@op-a.example") {
  client::HttpsClient https(visitor_options(g));
  client::HttpsTransport t(https);
  return client::Enroll(t, sim, nai).run();
}

std::string new_csr(const std::string& nai) {
  auto k = pki::generate_key();
  return pki::make_csr(k.get(), nai);
}

std::size_t certificates_of(const Gateway& g, const std::string& nai) {
  return g.ctl_json("endpoint list --nai " + nai).size();
}

aka::SecretVec<32> res_of(client::SoftSim& sim, const Exchange& e) {
  const auto out = sim.run_aka(e.rand, e.autn);
  REQUIRE(std::holds_alternative<aka::AkaSuccess>(out));
  return std::get<aka::AkaSuccess>(out).res;
}

// Rewrites the rspauth of a 200: a gateway that does not know XRES.
struct Tamper final : client::HttpTransport {
  client::HttpsClient& inner;
  explicit Tamper(client::HttpsClient& c) : inner(c) {}
  client::HttpsReply request(
      const std::string& method, const std::string& path, const std::string& body,
      const std::string& content_type,
      const std::vector<std::pair<std::string, std::string>>& headers) override {
    auto r = inner.request(method, path, body, content_type, headers);
    if (r.status == 200)
      r.headers["authentication-info"] =
          "rspauth=\"00000000000000000000000000000000\", qop=auth-int, nc=00000001";
    return r;
  }
};

}  // namespace

TEST_CASE("enrollment: the SIM gets a certificate that works on the endpoint listener",
          "[oagd][enroll]") {
  Gateway g("op-a.example", {"alice"});
  auto sim = sim_for(g, "alice");
  const auto got = enroll_with(g, sim);
  if (const auto* e = std::get_if<client::Error>(&got)) FAIL(e->to_string() << g.log());
  const auto& ok = std::get<client::Enrolled>(got);
  // openssl, independently: the leaf chains through the issuing CA to the endpoint CA.
  std::ofstream(g.dir.file("enrolled.pem")) << ok.cert_pem;
  std::ofstream(g.dir.file("enrolled.key")) << ok.key_pem;
  std::ofstream(g.dir.file("chain.pem")) << ok.chain_pem;
  const auto v = test::run_command("openssl verify -purpose sslclient -CAfile " +
                                   shell_quote(g.dir.file("endpoint-ca.pem")) + " -untrusted " +
                                   shell_quote(g.dir.file("chain.pem")) + " " +
                                   shell_quote(g.dir.file("enrolled.pem")));
  INFO(v.out << v.err);
  CHECK(v.status == 0);
  // It is recorded, and it is alice's mTLS identity now.
  const auto list = g.ctl_json("endpoint list --nai alice@op-a.example");
  bool recorded = false;
  for (const auto& c : list) recorded |= c.at("serial") == ok.serial;
  CHECK(recorded);
  test::TlsClient c(g.endpoint_port, g.dir.file("endpoint-ca.pem"), g.dir.file("enrolled.pem"),
                    g.dir.file("enrolled.key"));
  CHECK(c.request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})").status ==
        200);
  // Billed: one local record of kind enroll (the challenge's vector), its result (the answer
  // that used the challenge up), then the sim vector.
  const auto r = test::run_command(std::string(OAGCTL_PATH) + " --config " + g.cfg +
                                   " billing export --format jsonl");
  CHECK(r.out.find("\"kind\":\"enroll\"") != std::string::npos);
  CHECK(r.out.find("\"event\":\"result\"") != std::string::npos);
  CHECK(g.billing_records() == 3);

  // Renewal with the current certificate: a new one; the old one stays valid.
  const auto renew = [&](const std::string& target) {
    auto k = pki::generate_key();
    return c.request("POST", target, pki::make_csr(k.get(), "x"), "application/pkcs10");
  };
  const auto renewed = renew("/v1/certificates/renew");
  REQUIRE(renewed.status == 200);
  CHECK(pki::certs_from_pem(renewed.body).size() == 2);
  CHECK(pki::subject_nai(pki::cert_from_pem(renewed.body).get()) == "alice@op-a.example");
  CHECK(certificates_of(g, "alice@op-a.example") == 3);  // oagctl's, enrolled, renewed
  test::TlsClient again(g.endpoint_port, g.dir.file("endpoint-ca.pem"), g.dir.file("enrolled.pem"),
                        g.dir.file("enrolled.key"));
  CHECK(
      again.request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})").status ==
      200);
  // With revoke-old the certificate it came with is revoked.
  REQUIRE(renew("/v1/certificates/renew?revoke-old=true").status == 200);
  test::TlsClient revoked(g.endpoint_port, g.dir.file("endpoint-ca.pem"),
                          g.dir.file("enrolled.pem"), g.dir.file("enrolled.key"));
  const auto refused =
      revoked.request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"sim"})");
  CHECK(refused.status == 403);
  // The client library's renewal, with the newest certificate.
  client::GatewayOptions go;
  go.port = g.endpoint_port;
  go.ca_file = g.dir.file("endpoint-ca.pem");
  go.cert_file = g.dir.file("enrolled.pem");
  go.key_file = g.dir.file("enrolled.key");
  {
    // The enrolled certificate is revoked now: the library gets the refusal, named.
    client::GatewayClient ag(go);
    auto k = pki::generate_key();
    const auto refusal = ag.renew(pki::make_csr(k.get(), "x"), false);
    REQUIRE(std::holds_alternative<client::Error>(refusal));
    CHECK(std::get<client::Error>(refusal).code == "certificate-revoked");
  }
  // The enrollment route is not on the endpoint listener, nor renewal on the visitor listener.
  client::HttpsClient visitor_https(visitor_options(g));
  CHECK(visitor_https.request("POST", "/v1/certificates/renew", "x", "application/pkcs10").status ==
        404);
}

TEST_CASE("enrollment refusals: wrong K, replay, changed CSR, stale challenge, strangers",
          "[oagd][enroll]") {
  Gateway g("op-a.example", {"alice"}, 60000, {}, OAGD_FAULTS_PATH);
  client::HttpsClient https(visitor_options(g));
  auto sim = sim_for(g, "alice");
  const std::string nai = "alice@op-a.example";
  const auto csr = new_csr(nai);

  SECTION("a wrong response (wrong K) is 401 again with a fresh challenge, and no certificate") {
    Exchange e(https, nai, csr);
    REQUIRE(e.start().status == 401);
    const auto first_nonce = e.x.nonce;
    aka::Bytes<8> wrong{1, 2, 3, 4, 5, 6, 7, 8};
    const auto r = e.answer(wrong, csr, csr);
    CHECK(r.status == 401);
    CHECK(code_of(r) == "unauthorized");
    e.take(r);
    CHECK(e.x.nonce != first_nonce);
    CHECK(certificates_of(g, nai) == 1);  // only oagctl's
  }
  SECTION("the same Authorization twice: the second is refused") {
    Exchange e(https, nai, csr);
    REQUIRE(e.start().status == 401);
    const auto res = res_of(sim, e);
    const auto auth =
        digest::authorization(e.x, digest::response(e.x, res.expose(), "POST", csr), e.opaque);
    REQUIRE(e.send(auth, csr).status == 200);
    CHECK(e.send(auth, csr).status == 401);
    CHECK(certificates_of(g, nai) == 2);
  }
  SECTION("a CSR changed after the challenge (auth-int covers the body)") {
    Exchange e(https, nai, csr);
    REQUIRE(e.start().status == 401);
    const auto res = res_of(sim, e);
    CHECK(e.answer(res.expose(), csr, new_csr(nai)).status == 401);
    CHECK(certificates_of(g, nai) == 1);
  }
  SECTION("a challenge older than 30 s") {
    Exchange e(https, nai, csr);
    REQUIRE(e.start().status == 401);
    const auto res = res_of(sim, e);
    REQUIRE(https.request("POST", "/test/clock", "30001", "text/plain").status == 204);
    CHECK(e.answer(res.expose(), csr, csr).status == 401);
    CHECK(certificates_of(g, nai) == 1);
  }
  SECTION("an unknown NAI gets a challenge of the same shape as a subscriber's") {
    Exchange known(https, nai, csr);
    Exchange stranger(https, "mallory@op-a.example", new_csr("mallory@op-a.example"));
    const auto a = known.start();
    const auto b = stranger.start();
    CHECK(a.status == b.status);
    CHECK(a.body.size() == b.body.size());
    CHECK(code_of(a) == code_of(b));
    std::string why;
    const auto pa = digest::parse(a.headers.at("www-authenticate"), why);
    const auto pb = digest::parse(b.headers.at("www-authenticate"), why);
    REQUIRE(pa);
    REQUIRE(pb);
    std::set<std::string> ka, kb;
    for (const auto& [k, v] : *pa) ka.insert(k + "=" + std::to_string(v.size()));
    for (const auto& [k, v] : *pb) kb.insert(k + "=" + std::to_string(v.size()));
    CHECK(ka == kb);
    // ...and an answer to it is refused like a wrong one.
    aka::Bytes<8> any{};
    CHECK(stranger.answer(any, stranger.csr, stranger.csr).status == 401);
    CHECK(g.billing_records() == 1);  // only the subscriber's challenge cost a vector
  }
  SECTION("bad input is named: no Authorization, a CSR that is not one, a JSON body") {
    auto r = https.request("POST", "/v1/enroll", csr, "application/pkcs10");
    CHECK(r.status == 400);
    CHECK(json::parse(r.body).at("detail").get<std::string>().rfind("authorization:", 0) == 0);
    r = https.request("POST", "/v1/enroll", "-----BEGIN CERTIFICATE REQUEST-----\nxx\n",
                      "application/pkcs10", {{"Authorization", "Digest username=\"" + nai + "\""}});
    CHECK(r.status == 400);
    CHECK(code_of(r) == "bad-csr");
    r = https.request("POST", "/v1/enroll", "{}", "application/json");
    CHECK(r.status == 415);
    CHECK(g.billing_records() == 0);
  }
}

TEST_CASE("enrollment: a SIM ahead of the gateway resynchronises with AUTS and succeeds",
          "[oagd][enroll]") {
  Gateway g("op-a.example", {"alice"});
  auto sim = sim_for(g, "alice");
  // The SIM saw SEQ 1000 (IND 0) somewhere: the gateway's next SQN is far behind it.
  const auto keys = test::subscriber_keys();
  aka::Bytes<16> rand{};
  rand[0] = 7;
  const auto q = aka::generate_quintet(
      keys, rand, aka::Sqn::from_seq_ind(1000, 0, aka::kDefaultIndLen), {0x80, 0x00});
  REQUIRE(std::holds_alternative<aka::AkaSuccess>(sim.run_aka(rand, q.autn)));
  const auto before = g.sqn_of("alice@op-a.example");
  const auto got = enroll_with(g, sim);
  if (const auto* e = std::get_if<client::Error>(&got)) FAIL(e->to_string() << g.log());
  CHECK(g.sqn_of("alice@op-a.example") > before + 900);  // moved past the SIM's SEQ
  CHECK(g.billing_records() == 3);  // two challenges, two vectors, one answered (its result)
}

TEST_CASE("enrollment: the client checks rspauth and a gateway that does not know XRES is refused",
          "[oagd][enroll]") {
  Gateway g("op-a.example", {"alice"});
  auto sim = sim_for(g, "alice");
  client::HttpsClient https(visitor_options(g));
  Tamper t(https);
  client::Enroll enroll(t, sim, "alice@op-a.example");
  const auto got = enroll.run();
  REQUIRE(std::holds_alternative<client::Error>(got));
  CHECK(std::get<client::Error>(got).code == "network-not-authentic");
  CHECK(std::get<client::Error>(got).detail.find("rspauth") != std::string::npos);  // not AUTN
}

TEST_CASE("enrollment: challenges are rate-limited per NAI (each costs a vector)",
          "[oagd][enroll]") {
  Gateway g("op-a.example", {"alice"}, 60000, [](json& c) {
    c["enroll"] = {{"challenges_per_minute_per_nai", 6}};
  });
  client::HttpsClient https(visitor_options(g));
  const auto csr = new_csr("alice@op-a.example");
  Exchange e(https, "alice@op-a.example", csr);
  for (int i = 0; i < 3; ++i) CHECK(e.start().status == 401);  // a burst of three
  const auto r = e.start();
  CHECK(r.status == 429);
  CHECK(code_of(r) == "rate-limited");
  CHECK(r.headers.count("retry-after") == 1);
  CHECK(g.billing_records() == 3);  // a refused challenge costs nothing
}

TEST_CASE("enrollment under SIGKILL: every certificate a client received is recorded",
          "[oagd][enroll][crash]") {
  Gateway g("op-a.example", {"alice"}, 60000, [](json& c) {
    c["enroll"] = {{"challenges_per_minute_per_nai", 1000000},
                   {"challenges_per_minute_per_address", 1000000}};
  });
  std::vector<std::string> received;
  for (int round = 0; round < 4; ++round) {
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::thread load([&] {
      auto sim = sim_for(g, "alice", test::kK, std::to_string(round));
      client::HttpsOptions o = visitor_options(g);
      o.timeout_ms = 2000;
      while (!stop) {
        client::HttpsClient https(o);
        client::HttpsTransport t(https);
        client::Enroll enroll(t, sim, "alice@op-a.example");
        const auto got = enroll.run();
        if (const auto* ok = std::get_if<client::Enrolled>(&got)) {
          std::lock_guard lk(mu);
          received.push_back(ok->serial);
        } else if (std::get<client::Error>(got).status == 0) {
          break;  // the gateway is gone
        }
      }
    });
    // Let some enrollments complete, then kill the daemon in the middle of the next ones.
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard lk(mu);
        if (received.size() >= static_cast<std::size_t>(5 * (round + 1))) break;
      }
      usleep(2000);
    }
    kill(g.pid, SIGKILL);
    waitpid(g.pid, nullptr, 0);
    g.pid = -1;
    stop = true;
    load.join();
    g.start();
  }
  REQUIRE(received.size() >= 20);
  std::set<std::string> recorded;
  for (const auto& c : g.ctl_json("endpoint list --nai alice@op-a.example"))
    recorded.insert(c.at("serial").get<std::string>());
  for (const auto& s : received) {
    INFO(s);
    CHECK(recorded.count(s) == 1);
  }
  CHECK(g.ctl_json("billing verify").at("ok") == true);
}

TEST_CASE(
    "oagctl pki add-issuing-ca gives an older operator its issuing CA and a path-length-0 "
    "endpoint CA is refused with the reason",
    "[oagctl][enroll]") {
  Gateway g("op-a.example", {"alice"});
  g.stop();
  const auto ctl = [&](const std::string& args) {
    return test::run_command(std::string(OAGCTL_PATH) + " --config " + g.cfg + " " + args);
  };
  // An operator made by `oagctl init` has one already: no silent replacement.
  auto r = ctl("pki add-issuing-ca");
  CHECK(r.status == 1);
  CHECK(r.err.find("already set") != std::string::npos);
  // An operator from before enrollment: no issuing CA in its oagd.json.
  auto conf = json::parse(std::ifstream(g.dir.file("oagd.json")));
  conf["pki"].erase("issuing_ca_cert");
  conf["pki"].erase("issuing_ca_key");
  std::ofstream(g.dir.file("oagd.json")) << conf.dump(2);
  std::filesystem::remove(g.dir.file("issuing-ca.pem"));
  std::filesystem::remove(g.dir.file("issuing-ca.key"));
  r = ctl("--json pki add-issuing-ca");
  INFO(r.err);
  REQUIRE(r.status == 0);
  conf = json::parse(std::ifstream(g.dir.file("oagd.json")));
  CHECK(conf.at("pki").at("issuing_ca_cert") == g.dir.file("issuing-ca.pem"));
  CHECK(conf.at("realm") == "op-a.example");  // the rest of the file is kept
  struct stat st {};
  REQUIRE(::stat(g.dir.file("issuing-ca.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 077) == 0);
  // openssl: the new CA chains to the endpoint CA and may sign leaves but no further CA.
  CHECK(test::run_command("openssl verify -CAfile " + shell_quote(g.dir.file("endpoint-ca.pem")) +
                          " " + shell_quote(g.dir.file("issuing-ca.pem")))
            .status == 0);
  CHECK(test::run_command("openssl x509 -noout -text -in " +
                          shell_quote(g.dir.file("issuing-ca.pem")))
            .out.find("CA:TRUE, pathlen:0") != std::string::npos);
  // The daemon uses it: the test configuration takes the pki section again, enrollment works.
  auto tc = g.config();
  tc["pki"] = conf.at("pki");
  g.write_config(tc);
  g.start();
  auto sim = sim_for(g, "alice");
  const auto got = enroll_with(g, sim);
  if (const auto* e = std::get_if<client::Error>(&got)) FAIL(e->to_string() << g.log());
  g.stop();
  // An endpoint CA that allows no intermediate: refused, and the message says why.
  const auto d = [&](const char* f) { return shell_quote(g.dir.file(f)); };
  REQUIRE(test::run_command("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                            "-subj /CN=old-root -days 1 -addext "
                            "basicConstraints=critical,CA:TRUE,pathlen:0 -keyout " +
                            d("old-root.key") + " -out " + d("old-root.pem"))
              .status == 0);
  conf["pki"]["endpoint_ca_cert"] = g.dir.file("old-root.pem");
  conf["pki"]["endpoint_ca_key"] = g.dir.file("old-root.key");
  std::ofstream(g.dir.file("oagd.json")) << conf.dump(2);
  r = ctl("pki add-issuing-ca --force");
  CHECK(r.status == 1);
  CHECK(r.err.find("allows no intermediate CA") != std::string::npos);
}

TEST_CASE("enrollment across instances: a challenge made by one is answered at another, once",
          "[oagd][enroll][instances][postgresql]") {
  // Two instances of op-a on one PostgreSQL behind (what would be) one address: the answer to a
  // challenge reaches the other instance, which can check it (its state is sealed in the
  // opaque under the master key both have) and uses it up in the store.
  test::PgDatabase pg;
  const auto as = [](const char* name, unsigned ind) {
    return [=](json& c) {
      c["store"]["instance"] = name;
      c["store"]["ind_slot"] = ind;
    };
  };
  Gateway a("op-a.example", {"alice"}, 60000, as("i0", 0), OAGD_PATH,
            "--store " + test::shell_quote(pg.conninfo()) + " --instance i0");
  Gateway b(a, as("i1", 1));
  auto sim = sim_for(a, "alice");
  auto ob = visitor_options(a);
  ob.port = b.visitor_port;
  client::HttpsClient at_a(visitor_options(a)), at_b(ob);
  const std::string nai = "alice@op-a.example";
  const auto csr = new_csr(nai);
  Exchange e(at_a, nai, csr);
  REQUIRE(e.start().status == 401);  // instance a's challenge
  const auto res = res_of(sim, e);
  const auto auth =
      digest::authorization(e.x, digest::response(e.x, res.expose(), "POST", csr), e.opaque);
  Exchange elsewhere(at_b, nai, csr);
  const auto r = elsewhere.send(auth, csr);  // answered at instance b
  INFO(r.body << a.log() << b.log());
  CHECK(r.status == 200);
  CHECK(r.headers.count("authentication-info") == 1);
  CHECK(e.send(auth, csr).status == 401);  // and not a second time, at a
  CHECK(elsewhere.send(auth, csr).status == 401);
  CHECK(certificates_of(a, nai) == 2);  // oagctl's and the enrolled one
  const auto v = a.ctl_json("billing verify");
  CHECK(v.at("ok") == true);
  CHECK(v.at("chains").size() == 2);  // the challenge billed by i0, its result by i1
}
