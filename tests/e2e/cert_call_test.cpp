// Certificate-signed calls end to end (DESIGN §8) through a real Kamailio over TLS and two real
// gateways: carol (a password user of op-a whose certificate came from her roaming login
// through op-b's gateway) calls bob (whose certificate op-b issued). Kamailio checks client
// certificates against both operators' user CAs and, with WITH_IDENTITY, the Identity header
// itself with the secsipid module (x5u fetched from carol's home gateway, chain checked).
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/e2e/sip_world.hpp"

using namespace oag::test;
using nlohmann::json;

namespace {

const std::string kVerdict =
    "((?:mutually authenticated|authentication failed|call established|call failed)[^\\n]*)";
const std::string kPassword = "correct horse battery";
const std::string kCarol = "carol@op-a.example", kBob = "bob@op-b.example";

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A self-signed certificate and key for `cn` (a CA, or the proxy's server certificate).
void self_signed(const TempDir& d, const std::string& name, const std::string& cn,
                 const std::string& ext) {
  const auto r = run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj " +
      shell_quote("/CN=" + cn) + " " + ext + " -keyout " + shell_quote(d.file(name + ".key")) +
      " -out " + shell_quote(d.file(name + ".pem")));
  INFO(r.err);
  REQUIRE(r.status == 0);
}

// A leaf for `nai` issued by the CA `ca` (files ca.pem/ca.key in `d`): <name>.pem, <name>.key.
void leaf(const TempDir& d, const std::string& ca, const std::string& name,
          const std::string& nai) {
  std::ofstream(d.file(name + ".ext"))
      << "subjectAltName=URI:sip:" << nai << "\nextendedKeyUsage=clientAuth\n";
  const auto r = run_command(
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj " +
      shell_quote("/CN=" + nai) + " -keyout " + shell_quote(d.file(name + ".key")) +
      " | openssl x509 -req -days 1 -CA " + shell_quote(d.file(ca + ".pem")) + " -CAkey " +
      shell_quote(d.file(ca + ".key")) + " -CAcreateserial -extfile " +
      shell_quote(d.file(name + ".ext")) + " -out " + shell_quote(d.file(name + ".pem")));
  INFO(r.err);
  REQUIRE(r.status == 0);
}

// Two operators with agreements both ways (SIM, login and certificates), carol logged in
// through op-b, and a Kamailio over TLS (`identity`: checking Identity headers too).
struct CertWorld {
  explicit CertWorld(bool identity)
      : a("op-a.example", {"alice"}),
        b("op-b.example", {"bob"}),
        kamailio(make_kamailio(identity)) {}

  Kamailio make_kamailio(bool identity) {
    // Both operators' user CAs: client certificates over TLS, and the x5u chain.
    std::ofstream(dir.file("user-cas.pem"))
        << read_all(a.dir.file("endpoint-ca.pem")) << read_all(b.dir.file("endpoint-ca.pem"));
    self_signed(dir, "proxy", "127.0.0.1", "-addext subjectAltName=IP:127.0.0.1");
    std::ofstream(dir.file("tls.cfg"))
        << "[server:default]\nmethod = TLSv1.2+\nverify_certificate = yes\n"
           "require_certificate = yes\nprivate_key = "
        << dir.file("proxy.key") << "\ncertificate = " << dir.file("proxy.pem")
        << "\nca_list = " << dir.file("user-cas.pem")
        << "\n\n[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\n"
           "require_certificate = no\n";
    setup_operators();
    std::vector<std::string> defines{"WITH_TLS", "TLS_CONFIG=\"" + dir.file("tls.cfg") + "\""};
    if (identity) {
      defines.push_back("WITH_IDENTITY");
      defines.push_back("IDENTITY_CA=\"CertCAFile=" + dir.file("user-cas.pem") + "\"");
    }
    // secsipid fetches x5u with Go's HTTP client, which trusts $SSL_CERT_FILE: the gateways'
    // server certificates come from their endpoint CAs.
    return Kamailio(dir, false, defines, true, {{"SSL_CERT_FILE", dir.file("user-cas.pem")}});
  }

  void setup_operators() {
    ctl_ok("--config " + a.cfg + " subscriber add --nai " + kCarol + " --no-sim");
    std::ofstream(dir.file("carol.password")) << kPassword << "\n";
    ctl_ok("--config " + a.cfg + " subscriber set-password --nai " + kCarol + " --password-file " +
           shell_quote(dir.file("carol.password")));
    ctl_ok("--config " + a.cfg + " subscriber profile --nai " + kCarol + " --out " +
           shell_quote(dir.file("carol.profile.json")));
    agree(a, "a-b", b,
          "--kinds sim,aka,login,certificates --user-ca-file " +
              shell_quote(b.dir.file("endpoint-ca.pem")));
    agree(b, "b-a", a,
          "--kinds sim,aka,login,certificates --user-ca-file " +
              shell_quote(a.dir.file("endpoint-ca.pem")));
    // Carol logs in at op-b's gateway: her certificate comes from her home, op-a.
    const auto r = run_command(std::string(OAG_PHONE_PATH) + " login --profile " +
                               shell_quote(dir.file("carol.profile.json")) +
                               " --via https://127.0.0.1:" + std::to_string(b.visitor_port) +
                               " --password-file " + shell_quote(dir.file("carol.password")) +
                               " --out " + shell_quote(dir.file("carol")));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    // Her certificate with its chain, as she presents it over TLS and to her gateway.
    std::ofstream(dir.file("carol.pem"))
        << read_all(dir.file("carol/" + kCarol + ".pem")) << read_all(dir.file("carol/chain.pem"));
  }

  std::vector<std::string> common(const Gateway& g, const std::string& cert,
                                  const std::string& key) const {
    return {"--proxy",     "127.0.0.1:" + std::to_string(kamailio.tls_port()),
            "--transport", "tls",
            "--proxy-ca",  dir.file("proxy.pem"),
            "--auth",      "cert",
            "--ag",        "127.0.0.1:" + std::to_string(g.endpoint_port),
            "--ca",        g.dir.file("endpoint-ca.pem"),
            "--cert",      cert,
            "--key",       key};
  }
  std::unique_ptr<Child> bob(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> v{OAG_PHONE_PATH, "answer", "--nai",        kBob,
                               "--calls",      "1",      "--timeout-ms", "4000"};
    for (const auto& x : common(b, b.dir.file(kBob + ".pem"), b.dir.file(kBob + ".key")))
      v.push_back(x);
    v.insert(v.end(), extra.begin(), extra.end());
    auto c = std::make_unique<Child>(v);
    INFO(c->out());
    REQUIRE(c->wait_line("registered"));
    return c;
  }
  std::unique_ptr<Child> carol(const std::vector<std::string>& extra, int& status) {
    std::vector<std::string> v{OAG_PHONE_PATH,
                               "call",
                               kBob,
                               "--nai",
                               kCarol,
                               "--home-url",
                               "https://127.0.0.1:" + std::to_string(a.visitor_port),
                               "--hold-ms",
                               "300",
                               "--timeout-ms",
                               "4000"};
    for (const auto& x : common(a, dir.file("carol.pem"), dir.file("carol/" + kCarol + ".key")))
      v.push_back(x);
    v.insert(v.end(), extra.begin(), extra.end());
    auto c = std::make_unique<Child>(v);
    status = c->wait_exit();
    return c;
  }

  TempDir dir;
  Gateway a, b;
  Kamailio kamailio;
};

}  // namespace

TEST_CASE(
    "carol calls bob over TLS with certificates and both ends authenticate with the same media "
    "keys and the proxy checks the Identity",
    "[e2e][cert]") {
  CertWorld w(true);
  auto bob = w.bob();
  int status = -1;
  auto carol = w.carol({}, status);
  const int bob_status = bob->wait_exit();
  INFO("carol:\n" << carol->out() << "\nbob:\n" << bob->out());
  CHECK(status == 0);
  CHECK(bob_status == 0);
  const auto fp_carol =
      find(carol->out(), "mutually authenticated \\(certificates\\): media keys ([0-9a-f]{16})");
  const auto fp_bob =
      find(bob->out(), "mutually authenticated \\(certificates\\): media keys ([0-9a-f]{16})");
  CHECK(fp_carol.size() == 16);
  CHECK(fp_carol == fp_bob);
  CHECK(w.kamailio.logged("oag-proxy: Identity of sip:carol@op-a.example verified"));
  CHECK(w.kamailio.log().find("oag-proxy: Identity of sip:carol@op-a.example refused") ==
        std::string::npos);
  // Both lookups were billed across operators (carol's of bob bought by op-a from op-b, bob's of
  // carol the other way), and the two exports reconcile.
  std::string exports[2];
  for (int i = 0; i < 2; ++i) {
    const auto& g = i == 0 ? w.a : w.b;
    CHECK(g.ctl_json("billing verify").at("ok") == true);
    exports[i] = g.dir.file("billing.jsonl");
    ctl_ok("--config " + g.cfg + " billing export --format jsonl --output " +
           shell_quote(exports[i]));
    std::ifstream in(exports[i]);
    int sold = 0, bought = 0;
    for (std::string l; std::getline(in, l);) {
      const auto j = json::parse(l);
      if (!j.contains("kind") || j["kind"] != "certificates") continue;
      sold += j["role"] == "sold";
      bought += j["role"] == "bought";
    }
    CHECK(sold == 1);
    CHECK(bought == 1);
  }
  const auto rec =
      run_command(std::string(OAGCTL_PATH) + " --json --config " + w.a.cfg + " billing reconcile " +
                  shell_quote(exports[0]) + " " + shell_quote(exports[1]));
  INFO(rec.out << rec.err);
  CHECK(rec.status == 0);
  CHECK(json::parse(rec.out).at("unconfirmed").empty());
}

TEST_CASE("the proxy refuses an Identity altered on the way and a replayed one with 438",
          "[e2e][cert]") {
  CertWorld w(true);
  auto bob = w.bob();
  int status = -1;
  auto forged = w.carol({"--tamper-identity"}, status);
  INFO(forged->out());
  CHECK(status == 1);
  CHECK(forged->out().find("got 438 Invalid Identity Header") != std::string::npos);
  auto replay = w.carol({"--iat-offset-s", "-120"}, status);
  INFO(replay->out());
  CHECK(status == 1);
  CHECK(replay->out().find("got 438 Invalid Identity Header") != std::string::npos);
  // Bob never saw either INVITE: the proxy answered.
  CHECK(bob->out().find("INVITE from") == std::string::npos);
  CHECK(w.kamailio.logged("oag-proxy: Identity of sip:carol@op-a.example refused"));
}

TEST_CASE(
    "the callee refuses another CA's certificate with 437 and an old iat with 438 and the caller "
    "hangs up on a wrongly signed answer",
    "[e2e][cert]") {
  CertWorld w(false);  // the proxy does not check: the endpoints' own verdicts
  // A CA that is not op-a's issues a certificate for carol.
  self_signed(w.dir, "rogue", "rogue CA", "-addext basicConstraints=critical,CA:TRUE");
  leaf(w.dir, "rogue", "rogue-carol", kCarol);
  leaf(w.dir, "rogue", "rogue-bob", kBob);
  {
    auto bob = w.bob();
    int status = -1;
    auto carol = w.carol({"--signing-cert", w.dir.file("rogue-carol.pem"), "--signing-key",
                          w.dir.file("rogue-carol.key")},
                         status);
    bob->wait_exit();
    INFO("carol:\n" << carol->out() << "\nbob:\n" << bob->out());
    CHECK(status == 1);
    CHECK(carol->out().find("got 437 Unsupported Credential") != std::string::npos);
    CHECK(bob->out().find("refused the INVITE: 437 oag1 the signer's certificate") !=
          std::string::npos);
  }
  {
    auto bob = w.bob();
    int status = -1;
    auto carol = w.carol({"--iat-offset-s", "-120"}, status);
    bob->wait_exit();
    INFO("carol:\n" << carol->out() << "\nbob:\n" << bob->out());
    CHECK(status == 1);
    CHECK(carol->out().find("got 438 Invalid Identity Header") != std::string::npos);
  }
  {
    // Bob's answer signed by a key that is not his certificate's: carol ACKs, then hangs up.
    auto bob = w.bob({"--signing-cert", w.dir.file("rogue-bob.pem"), "--signing-key",
                      w.dir.file("rogue-bob.key")});
    int status = -1;
    auto carol = w.carol({}, status);
    const int bob_status = bob->wait_exit();
    INFO("carol:\n" << carol->out() << "\nbob:\n" << bob->out());
    CHECK(status == 1);
    CHECK(bob_status == 1);
    CHECK(carol->out().find("BYE sent (oag1 the answer is not signed by a certificate of " +
                            kBob) != std::string::npos);
    CHECK(find(bob->out(), kVerdict) == "authentication failed: the caller refused our answer");
  }
}

TEST_CASE("a revoked callee certificate is not returned so the call is not placed", "[e2e][cert]") {
  CertWorld w(false);
  ctl_ok("--config " + w.b.cfg + " endpoint revoke --nai " + kBob);
  int status = -1;
  auto carol = w.carol({}, status);
  INFO(carol->out());
  CHECK(status == 1);
  CHECK(carol->out().find("authentication failed: no certificate of bob@op-b.example from our "
                          "gateway: 404") != std::string::npos);
  CHECK(carol->out().find("INVITE") == std::string::npos);
}
