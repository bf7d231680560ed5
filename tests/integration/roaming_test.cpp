// The roaming login (DESIGN §7) on two real gateways over real TLS: carol@op-a.example, a
// password user without a SIM, logs in through op-b's gateway (her foreign agent); op-a's
// gateway is her home agent. Every refusal of §7's list, the files the FA keeps, the billing of
// both sides, and a crash of the home agent between its commit and its answer.
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "client/roaming_login.hpp"
#include "proto/aka/hex.hpp"
#include "proto/login/messages.hpp"
#include "proto/pki/csr.hpp"
#include "proto/pki/x509.hpp"
#include "tests/integration/gateway_process.hpp"

using namespace oag;
using nlohmann::json;
using test::ctl_ok;
using test::Gateway;
using test::shell_quote;

namespace {

const std::string kPassword = "correct horse battery";
const std::string kCarol = "carol@op-a.example";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Sends through an HttpsClient and keeps the last request, so a test can replay or alter it.
class Recorder final : public client::HttpTransport {
 public:
  explicit Recorder(client::HttpsClient& c) : c_(c) {}
  client::HttpsReply request(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& content_type,
                             const std::vector<std::pair<std::string, std::string>>& h) override {
    std::string b = body;
    if (path == "/v1/roaming/login") {
      if (alter) alter(b);
      last_body = b;
    }
    return c_.request(method, path, b, content_type, h);
  }
  std::function<void(std::string&)> alter;
  std::string last_body;

 private:
  client::HttpsClient& c_;
};

// Two operators: op-a (carol's home, her password set, alice with a SIM) and op-b (bob), with
// agreements of kind login both ways.
struct World {
  explicit World(std::string home_daemon = OAGD_PATH, bool wrong_user_ca = false)
      : a("op-a.example", {"alice"}, 60000, {}, std::move(home_daemon)),
        b("op-b.example", {"bob"}) {
    ctl_ok("--config " + a.cfg + " subscriber add --nai " + kCarol + " --no-sim");
    const auto pw = a.dir.file("carol.password");
    std::ofstream(pw) << kPassword << "\n";
    ctl_ok("--config " + a.cfg + " subscriber set-password --nai " + kCarol + " --password-file " +
           shell_quote(pw));
    profile_file = a.dir.file("carol.profile.json");
    ctl_ok("--config " + a.cfg + " subscriber profile --nai " + kCarol + " --out " +
           shell_quote(profile_file));
    test::agree(b, "b-a", a,
                "--kinds sim,aka,login --user-ca-file " +
                    shell_quote((wrong_user_ca ? b : a).dir.file("endpoint-ca.pem")));
    test::agree(
        a, "a-b", b,
        "--kinds sim,aka,login --user-ca-file " + shell_quote(b.dir.file("endpoint-ca.pem")));
    profile = std::get<client::HomeProfile>(client::parse_profile(read_all(profile_file)));
  }

  client::HttpsOptions via(const Gateway& g) const {
    client::HttpsOptions o;
    o.port = g.visitor_port;
    o.verify_server = false;  // the FA's certificate: the user cannot verify it, and need not
    return o;
  }

  // Logs carol in through `g` with `password`; `tweak` may alter the M2 body.
  client::LoginOutcome login(const Gateway& g, const std::string& password = kPassword,
                             std::function<void(std::string&)> alter = {},
                             std::int64_t time_offset_s = 0, std::string* sent = nullptr,
                             client::HomeProfile* who = nullptr,
                             std::function<std::string(std::string)> csr_filter = {}) {
    client::HttpsClient https(via(g));
    Recorder rec(https);
    rec.alter = std::move(alter);
    client::RoamingLogin l(rec, who ? *who : profile, password);
    l.set_time_offset_s(time_offset_s);
    if (csr_filter) l.set_csr_filter(std::move(csr_filter));
    auto got = l.run();
    if (sent) *sent = rec.last_body;
    if (auto* e = std::get_if<client::Error>(&got)) FAIL("login did not run: " << e->to_string());
    return std::get<client::LoginOutcome>(std::move(got));
  }

  Gateway a, b;
  std::string profile_file;
  client::HomeProfile profile;
};

std::uint64_t count_kind(const Gateway& g, const std::string& role) {
  const auto r = test::run_command(std::string(OAGCTL_PATH) + " --config " + g.cfg +
                                   " billing export --format jsonl --role " + role);
  REQUIRE(r.status == 0);
  std::uint64_t n = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);)
    if (line.find("\"kind\":\"login\"") != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("roaming login through the visited gateway: certificate, session, billing on both sides",
          "[roaming]") {
  World w;
  const auto r = w.login(w.b);
  INFO(w.a.log() << w.b.log());
  REQUIRE(r.accepted);
  CHECK(r.visited_realm == "op-b.example");
  CHECK_FALSE(r.session.empty());
  const auto cert = pki::cert_from_pem(r.cert_pem);
  REQUIRE(cert);
  CHECK(pki::subject_nai(cert.get()) == kCarol);
  // The certificate verifies with openssl against the home user CA, through the chain.
  const auto leaf = w.a.dir.file("carol-leaf.pem"), chain = w.a.dir.file("carol-chain.pem");
  std::ofstream(leaf) << r.cert_pem;
  std::ofstream(chain) << r.chain_pem;
  const auto v = test::run_command("openssl verify -purpose sslclient -CAfile " +
                                   shell_quote(w.a.dir.file("endpoint-ca.pem")) + " -untrusted " +
                                   shell_quote(chain) + " " + shell_quote(leaf));
  INFO(v.out << v.err);
  CHECK(v.status == 0);
  // It is the endpoint certificate at home: carol asks her AG for alice's vectors over mTLS.
  const auto key = w.a.dir.file("carol.key"), full = w.a.dir.file("carol-full.pem");
  std::ofstream(key) << r.key_pem;
  ::chmod(key.c_str(), 0600);
  std::ofstream(full) << r.cert_pem << r.chain_pem;
  test::TlsClient home(w.a.endpoint_port, w.a.home + "/endpoint-ca.pem", full, key);
  const auto got =
      home.request("POST", "/v1/vectors", R"({"nai":"alice@op-a.example","kind":"aka","count":1})");
  INFO(got.body);
  CHECK(got.status == 200);
  // Recorded, and revocable: revoked, the daemon refuses it.
  const auto certs = w.a.ctl_json("endpoint list --nai " + kCarol);
  REQUIRE(certs.size() == 1);
  CHECK(certs.at(0).at("serial") == r.serial);
  ctl_ok("--config " + w.a.cfg + " endpoint revoke --serial " + r.serial);
  test::TlsClient again(w.a.endpoint_port, w.a.home + "/endpoint-ca.pem", full, key);
  const auto refused = again.request("POST", "/v1/vectors",
                                     R"({"nai":"alice@op-a.example","kind":"aka","count":1})");
  CHECK(refused.status == 403);
  // A sold record at home, a bought one at the FA, with the same request id: they reconcile.
  CHECK(count_kind(w.a, "sold") == 1);
  CHECK(count_kind(w.b, "bought") == 1);
  const auto sold = w.a.dir.file("sold.jsonl"), bought = w.b.dir.file("bought.jsonl");
  ctl_ok("--config " + w.a.cfg + " billing export --format jsonl --role sold --output " +
         shell_quote(sold));
  ctl_ok("--config " + w.b.cfg + " billing export --format jsonl --role bought --output " +
         shell_quote(bought));
  const auto rec =
      test::run_command(std::string(OAGCTL_PATH) + " --json --config " + w.b.cfg +
                        " billing reconcile " + shell_quote(bought) + " " + shell_quote(sold));
  INFO(rec.out << rec.err);
  CHECK(rec.status == 0);
  CHECK(json::parse(rec.out).at("matched") == 1);
  CHECK(w.a.ctl_json("billing verify").at("ok") == true);
  CHECK(w.b.ctl_json("billing verify").at("ok") == true);
  // The FA keeps Ks2 (sealed) and never pwd_key, Ks3 or the password, in its database or log.
  w.b.stop();
  const std::string fa =
      read_all(w.b.dir.file("oag.db")) + read_all(w.b.dir.file("oag.db-wal")) + w.b.log();
  const auto pk = login::pwd_key(kPassword, kCarol);
  for (const std::string& secret :
       {kPassword, aka::to_hex(pk.expose()),
        std::string(reinterpret_cast<const char*>(pk.data()), 32), aka::to_hex(r.ks3.expose()),
        std::string(reinterpret_cast<const char*>(r.ks3.data()), 32), aka::to_hex(r.ks2.expose()),
        std::string(reinterpret_cast<const char*>(r.ks2.data()), 32)})
    CHECK(fa.find(secret) == std::string::npos);
  CHECK(fa.find(kCarol) != std::string::npos);  // it does know whom it serves
}

TEST_CASE("oag-phone login: the steps, the verdict and the files it leaves", "[roaming]") {
  World w;
  const auto out = w.a.dir.file("phone");
  const auto pw = w.a.dir.file("carol.password");
  const std::string phone =
      std::string(OAG_PHONE_PATH) + " login --profile " + shell_quote(w.profile_file) +
      " --via https://127.0.0.1:" + std::to_string(w.b.visitor_port) + " --out " + shell_quote(out);
  auto r = test::run_command(phone + " --password-file " + shell_quote(pw));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("M1 agent: visited realm op-b.example") != std::string::npos);
  CHECK(r.out.find("logged in as carol@op-a.example via op-b.example: certificate ") !=
        std::string::npos);
  CHECK(r.out.find(" valid until 20") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((out + "/" + kCarol + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((out + "/session.keys").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(std::filesystem::exists(out + "/" + kCarol + ".pem"));
  CHECK(std::filesystem::exists(out + "/chain.pem"));
  CHECK(json::parse(read_all(out + "/session.json")).at("nai") == kCarol);
  CHECK(read_all(out + "/session.json").find("ks2") == std::string::npos);
  // The certificate and chain it wrote verify with openssl.
  const auto v = test::run_command("openssl verify -CAfile " + shell_quote(out + "/chain.pem") +
                                   " " + shell_quote(out + "/" + kCarol + ".pem"));
  CHECK(v.status == 0);
  // A wrong password: refused, and the phone says who proves it.
  const auto bad = w.a.dir.file("bad.password");
  std::ofstream(bad) << "not the password\n";
  r = test::run_command(phone + " --password-file " + shell_quote(bad));
  CHECK(r.status == 1);
  CHECK(r.out.find("login refused: bad-credentials (proven by the home agent)") !=
        std::string::npos);
  // No password file and no terminal: a clear error naming the argument.
  r = test::run_command("setsid " + phone + " </dev/null");
  CHECK(r.status == 2);
  CHECK(r.err.find("--password-file") != std::string::npos);
}

TEST_CASE("roaming login at home: the home gateway answers M2 itself", "[roaming]") {
  World w;
  const auto r = w.login(w.a);
  REQUIRE(r.accepted);
  CHECK(r.visited_realm == "op-a.example");
  CHECK(count_kind(w.a, "local") == 1);
  CHECK(count_kind(w.b, "bought") == 0);
}

TEST_CASE("roaming login refusals: each reason of DESIGN §7 and who can prove it", "[roaming]") {
  World w;
  SECTION("wrong password: proven by the home agent, no HV2; a stranger gets the same") {
    const auto r = w.login(w.b, "a wrong password!");
    CHECK_FALSE(r.accepted);
    CHECK(r.reason == "bad-credentials");
    CHECK(r.proven);
    CHECK_FALSE(r.password_right);
    auto stranger = w.profile;
    stranger.nai = "nobody@op-a.example";
    const auto s = w.login(w.b, kPassword, {}, 0, nullptr, &stranger);
    CHECK(s.reason == "bad-credentials");
    CHECK(s.proven);
    CHECK(count_kind(w.a, "sold") == 0);
    CHECK(count_kind(w.b, "bought") == 0);
  }
  SECTION("revoked user: refused, and the proof's HV2 shows the password was right") {
    ctl_ok("--config " + w.a.cfg + " subscriber disable --nai " + kCarol);
    const auto r = w.login(w.b);
    CHECK(r.reason == "revoked-user");
    CHECK(r.proven);
    CHECK(r.password_right);
  }
  SECTION("a replayed M2 at home is refused as a replay") {
    std::string sent;
    REQUIRE(w.login(w.a, kPassword, {}, 0, &sent).accepted);
    test::TlsClient raw(w.a.visitor_port, w.a.home + "/endpoint-ca.pem");
    const auto again = raw.request("POST", "/v1/roaming/login", sent);
    REQUIRE(again.status == 200);
    CHECK(json::parse(again.body).at("reason") == "replay");
  }
  SECTION("a clock ten minutes off: stale") {
    const auto r = w.login(w.b, kPassword, {}, 600);
    CHECK(r.reason == "stale");
    CHECK(r.proven);
  }
  SECTION("a tampered seal: bad-request, with no proof") {
    const auto r = w.login(w.b, kPassword, [](std::string& body) {
      auto j = json::parse(body);
      auto s = j.at("sealed").get<std::string>();
      s[40] = s[40] == 'A' ? 'B' : 'A';
      j["sealed"] = s;
      body = j.dump();
    });
    CHECK(r.reason == "bad-request");
    CHECK_FALSE(r.proven);
  }
  SECTION("a CSR its key did not sign: bad-csr, the password proven right") {
    const auto r = w.login(w.b, kPassword, {}, 0, nullptr, nullptr, [](std::string pem) {
      BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
      X509_REQ* req = PEM_read_bio_X509_REQ(in, nullptr, nullptr, nullptr);
      BIO_free(in);
      unsigned char* der = nullptr;
      const int n = i2d_X509_REQ(req, &der);
      X509_REQ_free(req);
      der[n - 1] ^= 1;  // the last byte of the signature
      const unsigned char* p = der;
      req = d2i_X509_REQ(nullptr, &p, n);
      OPENSSL_free(der);
      BIO* out = BIO_new(BIO_s_mem());
      PEM_write_bio_X509_REQ(out, req);
      X509_REQ_free(req);
      char* data = nullptr;
      const long len = BIO_get_mem_data(out, &data);
      std::string bent(data, static_cast<std::size_t>(len));
      BIO_free(out);
      return bent;
    });
    CHECK(r.reason == "bad-csr");
    CHECK(r.proven);
    CHECK(r.password_right);
  }
  SECTION("a CSR swapped on the way (the FA's doing): the seal's AAD covers it") {
    const auto other = pki::make_csr(pki::generate_key().get(), kCarol);
    const auto r = w.login(w.b, kPassword, [&](std::string& body) {
      auto j = json::parse(body);
      j["csr"] = other;
      body = j.dump();
    });
    // The AAD covers the CSR, so the seal no longer opens: refused before any password check.
    CHECK(r.reason == "bad-request");
  }
  SECTION("five wrong passwords lock the NAI: the right one is then refused as locked") {
    for (int i = 0; i < 5; ++i)
      CHECK(w.login(w.b, "wrong password " + std::to_string(i)).reason == "bad-credentials");
    const auto r = w.login(w.b);
    CHECK(r.reason == "locked");
    CHECK(r.proven);
  }
  SECTION("an FA without a login agreement at the home gateway: refused, no NAI in the HA's log") {
    ctl_ok("--config " + w.a.cfg + " agreement revoke --id a-b");
    const auto before = w.a.log();
    const auto r = w.login(w.b);
    CHECK(r.reason == "no-agreement");
    CHECK_FALSE(r.proven);
    CHECK(w.a.log().substr(before.size()).find(kCarol) == std::string::npos);
  }
  SECTION("a visited gateway that has no agreement for the home realm refuses itself") {
    ctl_ok("--config " + w.b.cfg + " agreement revoke --id b-a");
    const auto r = w.login(w.b);
    CHECK(r.reason == "no-agreement");
    CHECK_FALSE(r.proven);
  }
  SECTION("an FA claiming another visited realm is refused by the home agent") {
    std::string sent;
    REQUIRE(w.login(w.b, kPassword, {}, 0, &sent).accepted);
    auto j = json::parse(sent);
    j["visited_realm"] = "op-c.example";
    j["request_id"] = "0f8fad5b-d9cb-469f-a165-70867728950e";
    test::TlsClient fa(w.a.federation_port, w.a.home + "/federation-ca.pem",
                       w.b.home + "/federation.pem", w.b.home + "/federation.key");
    const auto r = fa.request("POST", "/v1/federation/roaming/login", j.dump());
    CHECK(r.status == 403);
    CHECK(test::problem_code(r.body) == "no-agreement");
  }
}

TEST_CASE(
    "roaming login: the home agent killed between its commit and its answer and the retry gets "
    "the same certificate and one sold record",
    "[roaming]") {
  const auto kill_file =
      (std::filesystem::temp_directory_path() / ("oag-kill-" + std::to_string(::getpid())))
          .string();
  ::setenv("OAG_TEST_KILL_FILE", kill_file.c_str(), 1);
  World w(OAGD_FAULTS_PATH);
  ::unsetenv("OAG_TEST_KILL_FILE");
  std::ofstream(kill_file) << "arm\n";
  client::HttpsClient https(w.via(w.b));
  Recorder rec(https);
  client::RoamingLogin l(rec, w.profile, kPassword);
  const auto first = l.run();
  // The HA died after committing: the FA could not get an answer.
  REQUIRE(std::holds_alternative<client::LoginOutcome>(first));
  CHECK_FALSE(std::get<client::LoginOutcome>(first).accepted);
  CHECK_FALSE(std::filesystem::exists(kill_file));
  int st = 0;
  REQUIRE(::waitpid(w.a.pid, &st, 0) == w.a.pid);
  CHECK(WIFSIGNALED(st));
  w.a.pid = -1;
  CHECK(count_kind(w.a, "sold") == 1);  // committed before it died
  w.a.start();
  // (Its federation listener has a new port: the FA's agreement follows it.)
  ctl_ok("--config " + w.b.cfg + " agreement revoke --id b-a");
  test::agree(w.b, "b-a-2", w.a,
              "--kinds login --user-ca-file " + shell_quote(w.a.dir.file("endpoint-ca.pem")));
  // The user sends the same M2 again (same n1): the FA relays it under the same request id and
  // the HA answers what it stored.
  test::TlsClient raw(w.b.visitor_port, w.b.home + "/endpoint-ca.pem");
  const auto again = raw.request("POST", "/v1/roaming/login", rec.last_body);
  INFO(again.body << w.a.log());
  REQUIRE(again.status == 200);
  CHECK(json::parse(again.body).at("result") == "ack");
  CHECK(count_kind(w.a, "sold") == 1);
  CHECK(count_kind(w.b, "bought") == 1);
  const auto certs = w.a.ctl_json("endpoint list --nai " + kCarol);
  CHECK(certs.size() == 1);
  // And once more: still one of each (the FA finds the session it made).
  const auto third = raw.request("POST", "/v1/roaming/login", rec.last_body);
  CHECK(third.status == 200);
  CHECK(third.body == again.body);
  CHECK(count_kind(w.b, "bought") == 1);
}

namespace {

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE(
    "signed charges at the visited gateway: session MAC, signature, chain, and the record "
    "proves the charge alone",
    "[roaming]") {
  World w;
  const auto r = w.login(w.b);
  REQUIRE(r.accepted);
  client::HttpsClient fa(w.via(w.b));
  const std::string path = "/v1/visitor/charges";
  const auto post = [&](const std::string& body, std::int64_t ts, const aka::Secret<32>& key) {
    return fa.request(
        "POST", path, body, "application/json",
        {{"Authorization", client::session_authorization(r.session, key, "POST", path, body, ts)}});
  };
  login::ChargeOrder o{"order-1", "coffee", "2.50", "EUR", now_s(), {}};
  o = client::sign_order(o, r.key_pem);
  const auto body = login::to_json(o);
  const auto ts = now_ms();
  auto got = post(body, ts, r.ks2);
  INFO(got.body << w.b.log());
  REQUIRE(got.status == 201);
  const auto seq = json::parse(got.body).at("billing_seq").get<std::uint64_t>();
  // The session MAC: the same timestamp twice, another key, another body: refused.
  CHECK(post(body, ts, r.ks2).status == 401);
  CHECK(post(body, now_ms() + 1, r.ks3).status == 401);
  CHECK(fa.request("POST", path, body, "application/json",
                   {{"Authorization", client::session_authorization(r.session, r.ks2, "POST", path,
                                                                    body + " ", now_ms() + 2)}})
            .status == 401);
  CHECK(fa.request("POST", path, body, "application/json").status == 401);
  // A signature that does not verify: 403, nothing recorded.
  auto bent = o;
  bent.signature[10] ^= 1;
  got = post(login::to_json(bent), now_ms() + 3, r.ks2);
  CHECK(got.status == 403);
  CHECK(test::problem_code(got.body) == "bad-signature");
  auto other = o;
  other.amount = "25.00";  // signed for 2.50
  CHECK(post(login::to_json(other), now_ms() + 4, r.ks2).status == 403);
  // The same order again: the record it made, not a second charge.
  got = post(body, now_ms() + 5, r.ks2);
  REQUIRE(got.status == 201);
  CHECK(json::parse(got.body).at("billing_seq") == seq);
  // The same order id for another (signed) order: a conflict.
  auto second = client::sign_order({"order-1", "cake", "3.00", "EUR", now_s(), {}}, r.key_pem);
  CHECK(post(login::to_json(second), now_ms() + 6, r.ks2).status == 409);
  // The export holds the order and its signature; the record alone proves the charge to anyone
  // who trusts op-a's user CA, and to nobody else.
  const auto rec = w.b.dir.file("charges.jsonl");
  ctl_ok("--config " + w.b.cfg + " billing export --format jsonl --role local --output " +
         shell_quote(rec));
  const auto text = read_all(rec);
  CHECK(text.find("\"kind\":\"charge\"") != std::string::npos);
  CHECK(text.find("order-1") != std::string::npos);
  auto v =
      test::run_command(std::string(OAGCTL_PATH) + " billing verify-charge " + shell_quote(rec) +
                        " --ca-file " + shell_quote(w.a.dir.file("endpoint-ca.pem")));
  INFO(v.out << v.err);
  CHECK(v.status == 0);
  CHECK(v.out.find("charge order-1 of 2.50 EUR for \"coffee\" signed by carol@op-a.example") !=
        std::string::npos);
  v = test::run_command(std::string(OAGCTL_PATH) + " billing verify-charge " + shell_quote(rec) +
                        " --ca-file " + shell_quote(w.b.dir.file("endpoint-ca.pem")));
  CHECK(v.status != 0);
  // A record whose amount was changed after the fact no longer matches its signed order.
  std::string tampered = text;
  const auto at = tampered.find("\"unit_price\":\"2.5\"");
  REQUIRE(at != std::string::npos);
  tampered.replace(at, 18, "\"unit_price\":\"0.5\"");
  std::ofstream(rec) << tampered;
  v = test::run_command(std::string(OAGCTL_PATH) + " billing verify-charge " + shell_quote(rec) +
                        " --ca-file " + shell_quote(w.a.dir.file("endpoint-ca.pem")));
  CHECK(v.status != 0);
  CHECK(w.b.ctl_json("billing verify").at("ok") == true);
}

TEST_CASE("a charge whose certificate does not chain to the agreement's user CA is refused",
          "[roaming]") {
  World w(OAGD_PATH, true);
  const auto r = w.login(w.b);
  REQUIRE(r.accepted);
  client::HttpsClient fa(w.via(w.b));
  const std::string path = "/v1/visitor/charges";
  const auto body =
      login::to_json(client::sign_order({"order-2", "tea", "1.20", "EUR", now_s(), {}}, r.key_pem));
  const auto got =
      fa.request("POST", path, body, "application/json",
                 {{"Authorization",
                   client::session_authorization(r.session, r.ks2, "POST", path, body, now_ms())}});
  CHECK(got.status == 403);
  CHECK(test::problem_code(got.body) == "bad-signature");
}

TEST_CASE("renewal through any FA: authenticated end to end by Ks3, a new certificate recorded",
          "[roaming]") {
  World w;
  const auto r = w.login(w.b);
  REQUIRE(r.accepted);
  REQUIRE_FALSE(r.ha_session.empty());
  client::HttpsClient via_b(w.via(w.b));
  client::HttpsTransport tb(via_b);
  auto renewed = client::renew(tb, w.profile, r.ha_session, r.ks3);
  if (auto* e = std::get_if<client::Error>(&renewed)) FAIL(e->to_string() << w.a.log());
  const auto& n = std::get<client::LoginOutcome>(renewed);
  CHECK(n.accepted);
  CHECK(n.serial != r.serial);
  // Through the home gateway as well.
  client::HttpsClient via_a(w.via(w.a));
  client::HttpsTransport ta(via_a);
  CHECK(std::holds_alternative<client::LoginOutcome>(
      client::renew(ta, w.profile, r.ha_session, r.ks3)));
  CHECK(w.a.ctl_json("endpoint list --nai " + kCarol).size() == 3);
  // Ks2 (what the FA holds) is not enough: the FA cannot renew her certificate.
  const auto by_fa = client::renew(tb, w.profile, r.ha_session, r.ks2);
  INFO(w.b.log() << w.a.log());
  REQUIRE(std::holds_alternative<client::Error>(by_fa));
  CHECK(std::get<client::Error>(by_fa).status == 401);
  CHECK(w.a.ctl_json("endpoint list --nai " + kCarol).size() == 3);
}

TEST_CASE("login rate limit per client address at the FA", "[roaming]") {
  World w;
  // The FA lets one address send roaming.logins_per_minute_per_address M2s (a burst of a sixth
  // of it, at least 3): then 429 with Retry-After, which the client reports as not provable.
  {
    auto c = w.b.config();
    c["roaming"] = {{"logins_per_minute_per_address", 6}};
    w.b.write_config(c);
    w.b.stop();
    w.b.start();
    // (its federation port moved: the HA's agreement follows it)
    ctl_ok("--config " + w.a.cfg + " agreement revoke --id a-b");
    test::agree(w.a, "a-b-2", w.b,
                "--kinds login --user-ca-file " + shell_quote(w.b.dir.file("endpoint-ca.pem")));
    std::vector<std::string> reasons;
    for (int i = 0; i < 5; ++i) {
      const auto r = w.login(w.b);
      reasons.push_back(r.accepted ? "accepted" : r.reason);
    }
    CHECK(reasons[0] == "accepted");
    CHECK(std::count(reasons.begin(), reasons.end(), "rate-limited") >= 1);
  }
}

TEST_CASE("login rate limit per agreement at the HA", "[roaming]") {
  World w;
  // The HA holds a relaying FA to its agreement's rate (here 0.01/s, burst 1).
  ctl_ok("--config " + w.a.cfg + " agreement revoke --id a-b");
  test::agree(w.a, "a-b-3", w.b,
              "--kinds login --rate 0.01 --burst 1 --user-ca-file " +
                  shell_quote(w.b.dir.file("endpoint-ca.pem")));
  const auto first = w.login(w.b);
  const auto second = w.login(w.b);
  CHECK(first.accepted);
  CHECK_FALSE(second.accepted);
  CHECK(second.reason == "peer-busy");
  CHECK_FALSE(second.proven);
  CHECK(count_kind(w.a, "sold") == 1);
}
