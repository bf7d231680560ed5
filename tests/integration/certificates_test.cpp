// The certificate lookup of DESIGN §8 through two real gateways: our own subscriber's
// certificates from the store, another operator's bought under an agreement of kind
// `certificates` (the anchor is the agreement's user CA; billed sold and bought, reconciled),
// the public PEM for x5u, and what is never returned (revoked) or refused (no agreement, a bad
// NAI, a certificate of another CA served by the peer).
#include <openssl/x509.h>

#include <fstream>

#include "proto/pki/x509.hpp"
#include "tests/integration/gateway_process.hpp"

using namespace oag;
using nlohmann::json;
using test::ctl_ok;
using test::Gateway;
using test::shell_quote;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string serial_of(const std::string& pem_file) {
  return pki::serial_hex(pki::cert_from_pem(read_all(pem_file)).get());
}

std::vector<json> records(const Gateway& g, const std::string& kind) {
  const auto file = g.dir.file("lookups.jsonl");
  ctl_ok("--config " + g.cfg + " billing export --format jsonl --output " + shell_quote(file));
  std::ifstream in(file);
  std::vector<json> out;
  for (std::string l; std::getline(in, l);) {
    const auto j = json::parse(l);
    if (j.contains("kind") && j.at("kind") == kind) out.push_back(j);
  }
  return out;
}

struct World {
  World() : a("op-a.example", {"alice"}), b("op-b.example", {"bob"}) {
    test::agree(a, "a-b", b,
                "--kinds sim,aka,certificates --user-ca-file " +
                    shell_quote(b.dir.file("endpoint-ca.pem")));
    test::agree(b, "b-a", a,
                "--kinds sim,aka,certificates --user-ca-file " +
                    shell_quote(a.dir.file("endpoint-ca.pem")));
  }
  Gateway a, b;
};

}  // namespace

TEST_CASE("certificates of our own subscriber and of a peer's, with the anchor each is vouched by",
          "[certificates]") {
  World w;
  // Our own: from the store, the anchor is our endpoint CA; nothing billed.
  auto own =
      w.a.client("alice@op-a.example")->request("GET", "/v1/certificates/alice@op-a.example");
  INFO(own.body);
  REQUIRE(own.status == 200);
  auto j = json::parse(own.body);
  CHECK(j.at("subject") == "alice@op-a.example");
  REQUIRE(j.at("certificates").size() == 1);
  CHECK(j["certificates"][0].at("serial") == serial_of(w.a.dir.file("alice@op-a.example.pem")));
  CHECK(j.at("anchor") == read_all(w.a.dir.file("endpoint-ca.pem")));
  CHECK(records(w.a, "certificates").empty());
  // A peer's (the NAI percent-encoded, as a client may send it): bought from op-b.
  auto peer =
      w.a.client("alice@op-a.example")->request("GET", "/v1/certificates/bob%40op-b.example");
  INFO(peer.body);
  REQUIRE(peer.status == 200);
  j = json::parse(peer.body);
  CHECK(j.at("subject") == "bob@op-b.example");
  CHECK(j["certificates"][0].at("serial") == serial_of(w.b.dir.file("bob@op-b.example.pem")));
  CHECK(j.at("anchor") == read_all(w.b.dir.file("endpoint-ca.pem")));
  // openssl agrees that the certificate chains to the anchor we were given.
  std::ofstream(w.a.dir.file("bob-got.pem")) << j["certificates"][0].at("pem").get<std::string>();
  std::ofstream(w.a.dir.file("anchor-got.pem")) << j.at("anchor").get<std::string>();
  CHECK(test::run_command("openssl verify -CAfile " + shell_quote(w.a.dir.file("anchor-got.pem")) +
                          " " + shell_quote(w.a.dir.file("bob-got.pem")))
            .status == 0);
  // Billed on both sides, the same request id, at the agreement's price; they reconcile.
  const auto bought = records(w.a, "certificates"), sold = records(w.b, "certificates");
  REQUIRE(bought.size() == 1);
  REQUIRE(sold.size() == 1);
  CHECK(bought[0].at("role") == "bought");
  CHECK(sold[0].at("role") == "sold");
  CHECK(bought[0].at("request_id") == sold[0].at("request_id"));
  CHECK(bought[0].at("requester") == "alice@op-a.example");
  CHECK(sold[0].at("subject") == "bob@op-b.example");
  const auto ea = w.a.dir.file("a.csv"), eb = w.b.dir.file("b.csv");
  ctl_ok("--config " + w.a.cfg + " billing export --output " + shell_quote(ea));
  ctl_ok("--config " + w.b.cfg + " billing export --output " + shell_quote(eb));
  const auto rec =
      test::run_command(std::string(OAGCTL_PATH) + " --json --config " + w.a.cfg +
                        " billing reconcile " + shell_quote(ea) + " " + shell_quote(eb));
  INFO(rec.out << rec.err);
  CHECK(rec.status == 0);
  CHECK(json::parse(rec.out).at("matched") == 1);
  CHECK(w.a.ctl_json("billing verify").at("ok") == true);
  CHECK(w.b.ctl_json("billing verify").at("ok") == true);
  // The public PEM (x5u) on the visitor listener, no client certificate.
  test::TlsClient anon(w.b.visitor_port, w.b.dir.file("endpoint-ca.pem"));
  const auto serial = serial_of(w.b.dir.file("bob@op-b.example.pem"));
  const auto pem = anon.request("GET", "/v1/public/certificates/" + serial + ".pem");
  REQUIRE(pem.status == 200);
  CHECK(pem.headers.at("content-type") == "application/pem-certificate-chain");
  CHECK(pem.body.rfind(read_all(w.b.dir.file("bob@op-b.example.pem")).substr(0, 64), 0) == 0);
  CHECK(anon.request("GET", "/v1/public/certificates/" + serial).status == 400);
  CHECK(anon.request("GET", "/v1/public/certificates/ab.pem").status == 404);
}

TEST_CASE(
    "revoked certificates are never returned and bad names and missing agreements are refused",
    "[certificates]") {
  World w;
  const auto serial = serial_of(w.b.dir.file("bob@op-b.example.pem"));
  ctl_ok("--config " + w.b.cfg + " endpoint revoke --nai bob@op-b.example");
  auto alice = w.a.client("alice@op-a.example");
  auto r = alice->request("GET", "/v1/certificates/bob@op-b.example");
  CHECK(r.status == 404);
  CHECK(test::problem_code(r.body) == "no-certificate");
  test::TlsClient anon(w.b.visitor_port, w.b.dir.file("endpoint-ca.pem"));
  CHECK(anon.request("GET", "/v1/public/certificates/" + serial + ".pem").status == 404);
  CHECK(records(w.a, "certificates").empty());  // nothing returned, nothing billed
  r = alice->request("GET", "/v1/certificates/bob");
  CHECK(r.status == 400);
  CHECK(r.body.find("nai") != std::string::npos);
  r = alice->request("GET", "/v1/certificates/eve@op-c.example");
  CHECK(r.status == 403);
  CHECK(test::problem_code(r.body) == "no-agreement");
  r = alice->request("GET", "/v1/certificates/nobody@op-a.example");
  CHECK(r.status == 404);
}

TEST_CASE("a peer that serves a certificate its agreed user CA did not issue is a peer error",
          "[certificates]") {
  World w;
  // op-a's agreement names op-a's own endpoint CA as op-b's user CA: op-b's answers fail it.
  ctl_ok("--config " + w.a.cfg + " agreement add --id a-b-wrong --realm op-b.example --url " +
         test::fed_url(w.b) + " --ca-file " + shell_quote(w.b.dir.file("federation-ca.pem")) +
         " --kinds certificates --user-ca-file " + shell_quote(w.a.dir.file("endpoint-ca.pem")));
  ctl_ok("--config " + w.a.cfg + " agreement suspend --id a-b");
  const auto r =
      w.a.client("alice@op-a.example")->request("GET", "/v1/certificates/bob@op-b.example");
  INFO(r.body);
  CHECK(r.status == 502);
  CHECK(test::problem_code(r.body) == "peer-error");
  CHECK(records(w.a, "certificates").empty());
}

TEST_CASE("a peer's lookups are held to its agreement's rate", "[certificates]") {
  Gateway a("op-a.example", {"alice"}), b("op-b.example", {"bob"});
  test::agree(a, "a-b", b,
              "--kinds certificates --user-ca-file " + shell_quote(b.dir.file("endpoint-ca.pem")));
  test::agree(b, "b-a", a,
              "--kinds certificates --rate 0.01 --burst 1 --user-ca-file " +
                  shell_quote(a.dir.file("endpoint-ca.pem")));
  auto alice = a.client("alice@op-a.example");
  CHECK(alice->request("GET", "/v1/certificates/bob@op-b.example").status == 200);
  const auto r = alice->request("GET", "/v1/certificates/bob@op-b.example");
  INFO(r.body);
  CHECK(r.status == 503);
  CHECK(test::problem_code(r.body) == "peer-busy");
  CHECK(records(a, "certificates").size() == 1);  // the refused one billed nothing
  CHECK(records(b, "certificates").size() == 1);
}

TEST_CASE("a NAI with characters a URL reserves is looked up through both gateways",
          "[certificates]") {
  // '?' and '&' are allowed in a NAI's user part; the broker must escape them in the path and
  // query it sends the peer, or the peer reads another NAI.
  Gateway a("op-a.example", {"alice"}), b("op-b.example", {"o?neil&co"});
  test::agree(a, "a-b", b,
              "--kinds certificates --user-ca-file " + shell_quote(b.dir.file("endpoint-ca.pem")));
  test::agree(b, "b-a", a,
              "--kinds certificates --user-ca-file " + shell_quote(a.dir.file("endpoint-ca.pem")));
  const auto r =
      a.client("alice@op-a.example")->request("GET", "/v1/certificates/o%3Fneil%26co@op-b.example");
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body).at("subject") == "o?neil&co@op-b.example");
  CHECK(records(b, "certificates").at(0).at("subject") == "o?neil&co@op-b.example");
}
