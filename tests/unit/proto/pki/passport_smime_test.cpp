// PASSporT and S/MIME checked against independent implementations: `secsipidx` (Debian; the
// Go library Kamailio's secsipid module uses) verifies our PASSporTs and signs ones we verify;
// `openssl cms` verifies and decrypts our S/MIME bodies and makes ones we open. Every flipped
// byte of what a signature covers is refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "proto/aka/base64.hpp"
#include "proto/pki/passport.hpp"
#include "proto/pki/smime.hpp"
#include "proto/pki/verify.hpp"
#include "proto/pki/x509.hpp"
#include "proto/sip/identity.hpp"
#include "proto/sip/sdp.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"

using namespace oag;
using test::shell_quote;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A root, and leaves for carol and bob under it (P-256).
struct Pki {
  std::int64_t now = std::time(nullptr);
  pki::Key root_key = pki::generate_key(), carol_key = pki::generate_key(),
           bob_key = pki::generate_key();
  pki::Cert root, carol, bob;
  Pki() {
    pki::Spec r;
    r.ca = true;
    r.path_len = 1;
    r.common_name = "user CA";
    root = pki::issue(r, root_key.get(), nullptr, nullptr, now);
    carol =
        pki::issue(leaf("carol@op-a.example"), carol_key.get(), root.get(), root_key.get(), now);
    bob = pki::issue(leaf("bob@op-b.example"), bob_key.get(), root.get(), root_key.get(), now);
  }
  static pki::Spec leaf(const std::string& nai) {
    pki::Spec s;
    s.common_name = nai;
    s.uris = {"sip:" + nai};
    s.client_auth = true;
    s.lifetime_s = 86400;
    return s;
  }
  pki::Signer signer_carol() const { return {carol.get(), carol_key.get(), {}}; }
};

pki::PassportClaims claims(std::int64_t iat) {
  pki::PassportClaims c;
  c.x5u = "https://127.0.0.1:8443/v1/public/certificates/abc.pem";
  c.iat = iat;
  c.orig_uri = "sip:carol@op-a.example";
  c.dest_uris = {"sip:bob@op-b.example"};
  return c;
}

}  // namespace

TEST_CASE("a PASSporT we sign decodes, verifies, and is canonical JSON", "[pki][passport]") {
  Pki p;
  const auto jws = pki::passport_sign(claims(p.now), p.carol_key.get());
  auto d = pki::passport_decode(jws);
  REQUIRE(std::holds_alternative<pki::Passport>(d));
  const auto& pp = std::get<pki::Passport>(d);
  CHECK(pp.claims.orig_uri == "sip:carol@op-a.example");
  CHECK(pp.claims.dest_uris == std::vector<std::string>{"sip:bob@op-b.example"});
  CHECK(pp.claims.iat == p.now);
  CHECK_FALSE(pki::passport_verify(pp, p.carol_key.get(), p.now));
  // Another key: refused.
  CHECK(pki::passport_verify(pp, p.bob_key.get(), p.now)->code == pki::PkiErrc::bad_signature);
  // RFC 8225 §9: keys in lexicographic order, no whitespace.
  const auto header = aka::unb64url(jws.substr(0, jws.find('.')));
  REQUIRE(header);
  CHECK(
      std::string(header->begin(), header->end()) ==
      R"({"alg":"ES256","typ":"passport","x5u":"https://127.0.0.1:8443/v1/public/certificates/abc.pem"})");
  const auto mid = jws.substr(jws.find('.') + 1);
  const auto payload = aka::unb64url(mid.substr(0, mid.find('.')));
  REQUIRE(payload);
  CHECK(std::string(payload->begin(), payload->end()) ==
        R"({"dest":{"uri":["sip:bob@op-b.example"]},"iat":)" + std::to_string(p.now) +
            R"(,"orig":{"uri":"sip:carol@op-a.example"}})");
}

TEST_CASE("PASSporT iat outside 60 s either way is refused", "[pki][passport]") {
  Pki p;
  for (const auto& [skew, ok] :
       {std::pair{0, true}, {59, true}, {-60, true}, {61, false}, {-61, false}, {-3600, false}}) {
    INFO("iat skew " << skew);
    const auto d =
        pki::passport_decode(pki::passport_sign(claims(p.now + skew), p.carol_key.get()));
    const auto r = pki::passport_verify(std::get<pki::Passport>(d), p.carol_key.get(), p.now);
    CHECK(r.has_value() == !ok);
    if (r) CHECK(r->code == pki::PkiErrc::expired);
  }
}

TEST_CASE("every flipped byte of a PASSporT is refused", "[pki][passport]") {
  Pki p;
  const auto jws = pki::passport_sign(claims(p.now), p.carol_key.get());
  for (std::size_t i = 0; i < jws.size(); ++i) {
    if (jws[i] == '.') continue;
    for (const char flip : {'\x01', '\x20'}) {
      auto bad = jws;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      const auto d = pki::passport_decode(bad);
      const bool refused =
          std::holds_alternative<pki::PkiError>(d) ||
          pki::passport_verify(std::get<pki::Passport>(d), p.carol_key.get(), p.now).has_value();
      INFO("byte " << i << " ^ " << int(flip));
      CHECK(refused);
    }
  }
}

TEST_CASE("secsipidx verifies our Identity header, and refuses it altered",
          "[pki][passport][secsipidx]") {
  Pki p;
  test::TempDir d;
  write(d.file("carol.pem"), pki::to_pem(p.carol.get()));
  const auto value =
      sip::identity_value(pki::passport_sign(claims(p.now), p.carol_key.get()), claims(p.now).x5u);
  write(d.file("identity"), value);
  const auto ok =
      test::run_command("secsipidx -c -fidentity " + shell_quote(d.file("identity")) +
                        " -fpubkey " + shell_quote(d.file("carol.pem")) + " -expire 300");
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  // Signed by carol, checked with bob's certificate: refused.
  write(d.file("bob.pem"), pki::to_pem(p.bob.get()));
  CHECK(test::run_command("secsipidx -c -fidentity " + shell_quote(d.file("identity")) +
                          " -fpubkey " + shell_quote(d.file("bob.pem")) + " -expire 300")
            .status != 0);
  // One claim changed (bob → eve) keeps a valid JWS shape: refused.
  auto jws = value.substr(0, value.find(';'));
  const auto d1 = jws.find('.'), d2 = jws.find('.', d1 + 1);
  auto payload = aka::unb64url(jws.substr(d1 + 1, d2 - d1 - 1));
  std::string text(payload->begin(), payload->end());
  text.replace(text.find("bob"), 3, "eve");
  const auto forged =
      jws.substr(0, d1 + 1) +
      aka::b64url(aka::ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())) +
      jws.substr(d2) + value.substr(value.find(';'));
  write(d.file("forged"), forged);
  CHECK(test::run_command("secsipidx -c -fidentity " + shell_quote(d.file("forged")) +
                          " -fpubkey " + shell_quote(d.file("carol.pem")) + " -expire 300")
            .status != 0);
}

TEST_CASE("a PASSporT signed by secsipidx verifies with ours", "[pki][passport][secsipidx]") {
  Pki p;
  test::TempDir d;
  write(d.file("carol.key"), pki::private_key_pem(p.carol_key.get()));
  const auto r = test::run_command(
      "secsipidx -S -k " + shell_quote(d.file("carol.key")) +
      " -o 15551230001 -d 15551230002 -x5u https://127.0.0.1:8443/v1/public/certificates/abc.pem");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  std::string value = r.out;
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  const auto h = sip::parse_identity(value);
  REQUIRE(h);
  CHECK(h->info == "https://127.0.0.1:8443/v1/public/certificates/abc.pem");
  const auto dec = pki::passport_decode(h->passport);
  REQUIRE(std::holds_alternative<pki::Passport>(dec));
  const auto& pp = std::get<pki::Passport>(dec);
  CHECK(pp.claims.orig_tn == "15551230001");
  CHECK(pp.claims.dest_tns == std::vector<std::string>{"15551230002"});
  CHECK(pp.claims.ppt == "shaken");
  CHECK_FALSE(pki::passport_verify(pp, p.carol_key.get(), std::time(nullptr)));
  CHECK(pki::passport_verify(pp, p.bob_key.get(), std::time(nullptr)).has_value());
}

TEST_CASE("Identity header values parse strictly", "[sip][identity]") {
  const auto h = sip::parse_identity("aa.bb.cc;info=<https://x/a;b.pem>;alg=ES256;ppt=\"shaken\"");
  REQUIRE(h);
  CHECK(h->passport == "aa.bb.cc");
  CHECK(h->info == "https://x/a;b.pem");
  CHECK(h->alg == "ES256");
  CHECK(h->ppt == "shaken");
  std::string why;
  CHECK_FALSE(sip::parse_identity("aa.bb.cc;alg=ES256", &why));
  CHECK(why == "no info parameter");
  CHECK_FALSE(sip::parse_identity(";info=<https://x>", &why));
  CHECK_FALSE(sip::parse_identity("a b;info=<https://x>", &why));
  CHECK_FALSE(sip::parse_identity("aa.bb.cc;info=https://x", &why));
  CHECK_FALSE(sip::parse_identity("aa.bb.cc;info=<https://x", &why));
}

TEST_CASE("SDP with SDES keys: written, read back, fingerprints agree only on the same keys",
          "[sip][sdp]") {
  const auto k1 = sip::new_srtp_key(), k2 = sip::new_srtp_key();
  const auto sdp = sip::sdp_with_key("127.0.0.1", 40000, "42", k1);
  CHECK(sdp.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") != std::string::npos);
  const auto back = sip::sdes_key(sdp);
  REQUIRE(back);
  CHECK(*back == k1);
  CHECK(sip::media_fingerprint(k1, k2) == sip::media_fingerprint(*back, k2));
  CHECK(sip::media_fingerprint(k1, k2) != sip::media_fingerprint(k2, k1));
  CHECK(sip::media_fingerprint(k1, k2).size() == 16);
  std::string why;
  CHECK_FALSE(sip::sdes_key("v=0\r\nm=audio 1 RTP/SAVP 0\r\n", &why));
  CHECK_FALSE(sip::sdes_key("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n", &why));
  CHECK_FALSE(sip::sdes_key("a=crypto:1 AES_CM_128_HMAC_SHA1_80 key:AAAA\r\n", &why));
}

TEST_CASE("our S/MIME body verifies and decrypts with openssl cms", "[pki][smime][openssl]") {
  Pki p;
  test::TempDir d;
  const auto sdp = sip::sdp_with_key("127.0.0.1", 40000, "42", sip::new_srtp_key());
  const auto b = pki::smime_seal("application/sdp", sdp, p.bob.get(), p.signer_carol());
  CHECK(b.content_type.rfind("multipart/signed", 0) == 0);
  write(d.file("signed.eml"),
        "MIME-Version: 1.0\r\nContent-Type: " + b.content_type + "\r\n\r\n" + b.body);
  write(d.file("root.pem"), pki::to_pem(p.root.get()));
  write(d.file("bob.pem"), pki::to_pem(p.bob.get()));
  write(d.file("bob.key"), pki::private_key_pem(p.bob_key.get()));
  const auto v = test::run_command(
      "openssl cms -verify -purpose any -CAfile " + shell_quote(d.file("root.pem")) + " -in " +
      shell_quote(d.file("signed.eml")) + " -out " + shell_quote(d.file("inner.eml")));
  INFO(v.out << v.err);
  REQUIRE(v.status == 0);
  const auto x = test::run_command("openssl cms -decrypt -recip " + shell_quote(d.file("bob.pem")) +
                                   " -inkey " + shell_quote(d.file("bob.key")) + " -in " +
                                   shell_quote(d.file("inner.eml")) + " -binary");
  INFO(x.err);
  REQUIRE(x.status == 0);
  CHECK(x.out == "Content-Type: application/sdp\r\n\r\n" + sdp);
  // And ours opens it, naming carol as the signer.
  auto o = pki::smime_open(b.content_type, b.body, p.bob.get(), p.bob_key.get());
  REQUIRE(std::holds_alternative<pki::SmimeOpened>(o));
  const auto& op = std::get<pki::SmimeOpened>(o);
  CHECK(op.encrypted);
  CHECK(op.type == "application/sdp");
  CHECK(op.content == sdp);
  CHECK(pki::subject_nai(op.signer.get()) == "carol@op-a.example");
  // Carol cannot read what she encrypted to bob (nor could anyone else but bob).
  CHECK(std::holds_alternative<pki::PkiError>(
      pki::smime_open(b.content_type, b.body, p.carol.get(), p.carol_key.get())));
}

TEST_CASE("an S/MIME body made by openssl cms opens with ours", "[pki][smime][openssl]") {
  Pki p;
  test::TempDir d;
  write(d.file("sdp.eml"), "Content-Type: application/sdp\r\n\r\nv=0\r\ns=from openssl\r\n");
  write(d.file("bob.pem"), pki::to_pem(p.bob.get()));
  write(d.file("carol.pem"), pki::to_pem(p.carol.get()));
  write(d.file("carol.key"), pki::private_key_pem(p.carol_key.get()));
  const auto e = test::run_command(
      "openssl cms -encrypt -aes256 -in " + shell_quote(d.file("sdp.eml")) + " -out " +
      shell_quote(d.file("env.eml")) + " " + shell_quote(d.file("bob.pem")) +
      " && openssl cms -sign -in " + shell_quote(d.file("env.eml")) + " -signer " +
      shell_quote(d.file("carol.pem")) + " -inkey " + shell_quote(d.file("carol.key")) + " -out " +
      shell_quote(d.file("signed.eml")));
  INFO(e.err);
  REQUIRE(e.status == 0);
  const auto all = read(d.file("signed.eml"));
  // Its headers become SIP's Content-Type; the rest is the body.
  std::size_t end = all.find("\n\n");
  REQUIRE(end != std::string::npos);
  const auto ct_at = all.find("Content-Type: ");
  const auto ct_end = all.find('\n', ct_at);
  const auto ct = all.substr(ct_at + 14, ct_end - ct_at - 14);
  const auto body = all.substr(end + 2);
  auto o = pki::smime_open(ct, body, p.bob.get(), p.bob_key.get());
  if (auto* err = std::get_if<pki::PkiError>(&o)) FAIL(err->detail);
  const auto& op = std::get<pki::SmimeOpened>(o);
  CHECK(op.encrypted);
  CHECK(op.type == "application/sdp");
  CHECK(op.content.find("s=from openssl") != std::string::npos);
  CHECK(pki::subject_nai(op.signer.get()) == "carol@op-a.example");
}

TEST_CASE("every flipped byte of what an S/MIME signature covers is refused", "[pki][smime]") {
  Pki p;
  const auto b = pki::smime_sign("message/sipfrag", "Call-ID: 1@x\r\n", p.signer_carol());
  auto ok = pki::smime_open(b.content_type, b.body, nullptr, nullptr);
  REQUIRE(std::holds_alternative<pki::SmimeOpened>(ok));
  CHECK(std::get<pki::SmimeOpened>(ok).content == "Call-ID: 1@x\r\n");
  CHECK_FALSE(std::get<pki::SmimeOpened>(ok).encrypted);
  // The signed part: from after the first boundary line to the CRLF before the next boundary.
  const auto boundary = "--" + b.content_type.substr(b.content_type.find("boundary=") + 9);
  auto bnd = boundary;
  if (bnd.find('"') != std::string::npos)
    bnd.erase(std::remove(bnd.begin(), bnd.end(), '"'), bnd.end());
  const auto first = b.body.find(bnd);
  REQUIRE(first != std::string::npos);
  const auto start = b.body.find("\r\n", first) + 2;
  const auto second = b.body.find("\r\n" + bnd, start);
  REQUIRE(second != std::string::npos);
  unsigned flipped = 0;
  for (std::size_t i = start; i < second; ++i, ++flipped) {
    auto bad = b.body;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    INFO("byte " << i << " of the signed part");
    CHECK(std::holds_alternative<pki::PkiError>(
        pki::smime_open(b.content_type, bad, nullptr, nullptr)));
  }
  CHECK(flipped > 20);
  // A body encrypted to bob but signed by carol, opened without a key: refused, not returned.
  const auto sealed = pki::smime_seal("application/sdp", "v=0\r\n", p.bob.get(), p.signer_carol());
  CHECK(std::holds_alternative<pki::PkiError>(
      pki::smime_open(sealed.content_type, sealed.body, nullptr, nullptr)));
  CHECK(std::holds_alternative<pki::PkiError>(
      pki::smime_open("application/sdp", sealed.body, p.bob.get(), p.bob_key.get())));
}
