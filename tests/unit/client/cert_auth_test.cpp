// The certificate-signed call's machines, caller and callee, run against each other with a
// directory that answers what a gateway would (real certificates of two operators' CAs): the
// whole exchange, then each refusal DESIGN §8 names, with its status.
#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>
#include <map>

#include "client/cert_auth.hpp"
#include "proto/pki/x509.hpp"
#include "tests/unit/support/temp_dir.hpp"

using namespace oag;

namespace {

// One operator's user CA and the certificates it issued.
struct Operator {
  pki::Key ca_key = pki::generate_key();
  pki::Cert ca;
  explicit Operator(const std::string& realm) {
    pki::Spec s;
    s.ca = true;
    s.common_name = realm + " user CA";
    ca = pki::issue(s, ca_key.get(), nullptr, nullptr, std::time(nullptr));
  }
  // Writes <nai>.pem and <nai>.key into `dir`; the identity loaded from them.
  client::CertIdentity user(const test::TempDir& dir, const std::string& nai) {
    auto key = pki::generate_key();
    pki::Spec s;
    s.common_name = nai;
    s.uris = {"sip:" + nai};
    s.client_auth = true;
    auto cert = pki::issue(s, key.get(), ca.get(), ca_key.get(), std::time(nullptr));
    std::ofstream(dir.file(nai + ".pem")) << pki::to_pem(cert.get());
    std::ofstream(dir.file(nai + ".key")) << pki::private_key_pem(key.get());
    return client::CertIdentity::load(dir.file(nai + ".pem"), dir.file(nai + ".key"), "",
                                      "https://127.0.0.1:1");
  }
};

// A gateway's answers: each NAI's certificates and the anchor for its realm.
struct Directory final : client::CertDirectory {
  std::map<std::string, wire::CertificatesAnswer> by_nai;
  void add(const client::CertIdentity& id, const Operator& op) {
    auto& a = by_nai[id.nai];
    a.subject = id.nai;
    a.certificates.push_back({pki::serial_hex(id.cert.get()), pki::to_pem(id.cert.get()), 0});
    a.anchor = pki::to_pem(op.ca.get());
  }
  client::Expected<wire::CertificatesAnswer> certificates(const std::string& nai) override {
    const auto it = by_nai.find(nai);
    if (it == by_nai.end()) return client::Error{404, "no-certificate", "none"};
    return it->second;
  }
};

std::int64_t now() {
  return std::time(nullptr);
}

const std::string kFrom = "sip:carol@op-a.example", kTo = "sip:bob@op-b.example";

}  // namespace

TEST_CASE("carol and bob authenticate each other with certificates and agree on media keys",
          "[client][cert]") {
  test::TempDir d;
  Operator a("op-a.example"), b("op-b.example");
  const auto carol = a.user(d, "carol@op-a.example");
  const auto bob = b.user(d, "bob@op-b.example");
  Directory dir;
  dir.add(carol, a);
  dir.add(bob, b);
  client::CertCallerAuth caller(dir, carol, "bob@op-b.example", now);
  client::CertCalleeAuth callee(dir, bob, now);
  const auto offer = caller.start(kFrom, kTo, "127.0.0.1", 40000);
  REQUIRE(offer);
  auto answer = callee.on_invite(offer->identity, kFrom, kTo, offer->body.content_type,
                                 offer->body.body, "127.0.0.1", 40002);
  if (auto* r = std::get_if<client::CertCalleeAuth::Reject>(&answer)) FAIL(r->warning);
  const auto& ok = std::get<client::SignedBody>(answer);
  const auto frag = client::ack_sipfrag("c1@x", kFrom, "ft", kTo, "tt");
  const auto ack = caller.on_answer(ok.content_type, ok.body, frag);
  REQUIRE(ack);
  REQUIRE(callee.on_ack(ack->content_type, ack->body, frag));
  CHECK(caller.state() == client::CertState::authenticated);
  CHECK(callee.state() == client::CertState::authenticated);
  CHECK(caller.fingerprint() == callee.fingerprint());
  CHECK(callee.caller() == "carol@op-a.example");
}

TEST_CASE("the callee's refusals: 428, 437, 438 and 403", "[client][cert]") {
  test::TempDir d;
  Operator a("op-a.example"), b("op-b.example"), rogue("op-a.example");
  const auto carol = a.user(d, "carol@op-a.example");
  const auto bob = b.user(d, "bob@op-b.example");
  Directory dir;
  dir.add(carol, a);
  dir.add(bob, b);
  client::CertCallerAuth caller(dir, carol, "bob@op-b.example", now);
  const auto offer = caller.start(kFrom, kTo, "127.0.0.1", 40000);
  REQUIRE(offer);
  const auto status = [&](const std::optional<std::string>& identity, const std::string& ct,
                          const std::string& body, const std::string& from = kFrom) {
    client::CertCalleeAuth callee(dir, bob, now);
    auto r = callee.on_invite(identity, from, kTo, ct, body, "127.0.0.1", 1);
    auto* rej = std::get_if<client::CertCalleeAuth::Reject>(&r);
    return rej ? rej->status : 200;
  };
  CHECK(status(offer->identity, offer->body.content_type, offer->body.body) == 200);
  CHECK(status(std::nullopt, offer->body.content_type, offer->body.body) == 428);
  // The PASSporT altered: a claim byte changed.
  auto forged = offer->identity;
  forged[forged.find('.') + 3] ^= 0x01;
  CHECK(status(forged, offer->body.content_type, offer->body.body) == 438);
  // Sent to another callee URI than the PASSporT names.
  CHECK(status(offer->identity, offer->body.content_type, offer->body.body,
               "sip:carol@op-a.example;x") != 200);
  // A body altered on the way: 403.
  auto body = offer->body.body;
  body[body.size() / 3] ^= 0x01;
  CHECK(status(offer->identity, offer->body.content_type, body) == 403);
  // Carol with a certificate of another CA that also calls itself op-a's: 437.
  test::TempDir d2;
  const auto fake = rogue.user(d2, "carol@op-a.example");
  client::CertCallerAuth impostor(dir, fake, "bob@op-b.example", now);
  const auto bad = impostor.start(kFrom, kTo, "127.0.0.1", 40000);
  REQUIRE(bad);
  CHECK(status(bad->identity, bad->body.content_type, bad->body.body) == 437);
  // An old iat: 438.
  client::CertCallerAuth late(dir, carol, "bob@op-b.example", [] { return now() - 120; });
  const auto old = late.start(kFrom, kTo, "127.0.0.1", 40000);
  REQUIRE(old);
  CHECK(status(old->identity, old->body.content_type, old->body.body) == 438);
}

TEST_CASE("the caller refuses an answer signed by another key than the callee's",
          "[client][cert]") {
  test::TempDir d, d2;
  Operator a("op-a.example"), b("op-b.example");
  const auto carol = a.user(d, "carol@op-a.example");
  const auto bob = b.user(d, "bob@op-b.example");
  const auto other_bob = b.user(d2, "bob@op-b.example");  // same CA, not the one listed
  Directory dir;
  dir.add(carol, a);
  dir.add(bob, b);
  client::CertCallerAuth caller(dir, carol, "bob@op-b.example", now);
  const auto offer = caller.start(kFrom, kTo, "127.0.0.1", 40000);
  REQUIRE(offer);
  const auto forged = pki::smime_seal("application/sdp",
                                      sip::sdp_with_key("127.0.0.1", 1, "1", sip::new_srtp_key()),
                                      carol.cert.get(), other_bob.signer());
  CHECK_FALSE(caller.on_answer(forged.content_type, forged.body, "x"));
  CHECK(caller.state() == client::CertState::failed);
  CHECK(caller.reason().find("not signed by a certificate of bob@op-b.example") !=
        std::string::npos);
}
