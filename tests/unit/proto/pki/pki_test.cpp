// proto/pki checked against an independent implementation, the openssl command line: what we
// issue verifies with `openssl verify`, what `openssl req` makes we accept, and a CSR whose
// signature was altered is refused.
#include <catch2/catch.hpp>

#include <ctime>
#include <fstream>
#include <sstream>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <iterator>

#include "proto/pki/csr.hpp"
#include "proto/pki/es256.hpp"
#include "proto/pki/verify.hpp"
#include "proto/pki/x509.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"

using namespace oag;
using test::shell_quote;

namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Ca {
  pki::Key key = pki::generate_key();
  pki::Cert cert;
  explicit Ca(std::int64_t now, int path_len = 1) {
    pki::Spec s;
    s.ca = true;
    s.path_len = path_len;
    s.common_name = "test root";
    s.organization = "op-a.example";
    cert = pki::issue(s, key.get(), nullptr, nullptr, now);
  }
};

pki::Spec leaf_spec(const std::string& nai) {
  pki::Spec s;
  s.common_name = nai;
  s.uris = {"sip:" + nai};
  s.client_auth = true;
  s.lifetime_s = 86400;
  s.backdate_s = 60;
  return s;
}

}  // namespace

TEST_CASE("an issued leaf under an intermediate verifies with openssl verify", "[pki][openssl]") {
  const std::int64_t now = std::time(nullptr);
  Ca root(now);
  pki::Spec is;
  is.ca = true;
  is.common_name = "issuing CA";
  auto issuing_key = pki::generate_key();
  auto issuing = pki::issue(is, issuing_key.get(), root.cert.get(), root.key.get(), now);
  auto device = pki::generate_key();
  auto leaf = pki::issue(leaf_spec("alice@op-a.example"), device.get(), issuing.get(),
                         issuing_key.get(), now);

  test::TempDir d;
  write(d.file("root.pem"), pki::to_pem(root.cert.get()));
  write(d.file("issuing.pem"), pki::to_pem(issuing.get()));
  write(d.file("leaf.pem"), pki::to_pem(leaf.get()));
  const auto ok = test::run_command(
      "openssl verify -x509_strict -purpose sslclient -CAfile " + shell_quote(d.file("root.pem")) +
      " -untrusted " + shell_quote(d.file("issuing.pem")) + " " + shell_quote(d.file("leaf.pem")));
  INFO(ok.out << ok.err);
  CHECK(ok.status == 0);
  // What openssl reads out of it is what we put in.
  const auto text =
      test::run_command("openssl x509 -noout -text -in " + shell_quote(d.file("leaf.pem")));
  CHECK(text.out.find("URI:sip:alice@op-a.example") != std::string::npos);
  CHECK(text.out.find("TLS Web Client Authentication") != std::string::npos);
  CHECK(text.out.find("Digital Signature") != std::string::npos);
  const auto serial =
      test::run_command("openssl x509 -noout -serial -in " + shell_quote(d.file("leaf.pem")));
  std::string hex = serial.out.substr(serial.out.find('=') + 1);
  hex.erase(hex.find_last_not_of("\n") + 1);
  for (auto& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(hex == pki::serial_hex(leaf.get()));
  CHECK(hex.size() == 32);  // 128 bits, never shortened
  CHECK(pki::subject_nai(leaf.get()) == "alice@op-a.example");
  CHECK(pki::not_before_ms(leaf.get()) == (now - 60) * 1000);
  CHECK(pki::not_after_ms(leaf.get()) == (now - 60 + 86400) * 1000);

  // Ours agrees, and refuses what it should.
  CHECK_FALSE(pki::verify_chain(leaf.get(), {issuing.get()}, {root.cert.get()},
                                pki::Purpose::tls_client, now));
  const auto no_path = pki::verify_chain(leaf.get(), {}, {root.cert.get()}, pki::Purpose::any, now);
  REQUIRE(no_path);
  CHECK(no_path->code == pki::PkiErrc::untrusted);
  const auto late = pki::verify_chain(leaf.get(), {issuing.get()}, {root.cert.get()},
                                      pki::Purpose::tls_client, now + 2 * 86400);
  REQUIRE(late);
  CHECK(late->code == pki::PkiErrc::expired);
  const auto server = pki::verify_chain(leaf.get(), {issuing.get()}, {root.cert.get()},
                                        pki::Purpose::tls_server, now);
  REQUIRE(server);
  CHECK(server->code == pki::PkiErrc::wrong_purpose);
  Ca other(now);
  const auto foreign = pki::verify_chain(leaf.get(), {issuing.get()}, {other.cert.get()},
                                         pki::Purpose::tls_client, now);
  REQUIRE(foreign);
  CHECK(foreign->code == pki::PkiErrc::untrusted);
}

TEST_CASE("a root with path length 0 cannot have an intermediate (openssl agrees)",
          "[pki][openssl]") {
  const std::int64_t now = std::time(nullptr);
  Ca root(now, 0);
  pki::Spec is;
  is.ca = true;
  is.common_name = "issuing CA";
  auto ik = pki::generate_key();
  auto issuing = pki::issue(is, ik.get(), root.cert.get(), root.key.get(), now);
  auto dk = pki::generate_key();
  auto leaf = pki::issue(leaf_spec("bob@op-b.example"), dk.get(), issuing.get(), ik.get(), now);
  CHECK(pki::verify_chain(leaf.get(), {issuing.get()}, {root.cert.get()}, pki::Purpose::any, now));
  test::TempDir d;
  write(d.file("root.pem"), pki::to_pem(root.cert.get()));
  write(d.file("issuing.pem"), pki::to_pem(issuing.get()));
  write(d.file("leaf.pem"), pki::to_pem(leaf.get()));
  CHECK(test::run_command("openssl verify -CAfile " + shell_quote(d.file("root.pem")) +
                          " -untrusted " + shell_quote(d.file("issuing.pem")) + " " +
                          shell_quote(d.file("leaf.pem")))
            .status != 0);
}

TEST_CASE("a CSR made by openssl req is accepted, its key is the one in the certificate",
          "[pki][openssl][csr]") {
  test::TempDir d;
  const auto made = test::run_command(
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "
      "/CN=carol@op-a.example -keyout " +
      shell_quote(d.file("k.pem")) + " -out " + shell_quote(d.file("csr.pem")));
  INFO(made.err);
  REQUIRE(made.status == 0);
  const std::string pem = read(d.file("csr.pem"));
  auto parsed = pki::parse_csr(pem);
  REQUIRE(std::holds_alternative<pki::Csr>(parsed));
  const auto& csr = std::get<pki::Csr>(parsed);
  CHECK(csr.common_name == "carol@op-a.example");
  // The SPKI hash is the same as openssl computes from the private key.
  const auto spki = test::run_command("openssl pkey -in " + shell_quote(d.file("k.pem")) +
                                      " -pubout -outform DER | openssl dgst -sha256 -r");
  CHECK(spki.out.substr(0, 64) == csr.spki_sha256);

  const std::int64_t now = std::time(nullptr);
  Ca root(now);
  auto leaf = pki::issue(leaf_spec("carol@op-a.example"), csr.public_key.get(), root.cert.get(),
                         root.key.get(), now);
  CHECK(pki::spki_sha256(leaf.get()) == csr.spki_sha256);
  write(d.file("leaf.pem"), pki::to_pem(leaf.get()));
  write(d.file("root.pem"), pki::to_pem(root.cert.get()));
  // openssl pairs the certificate with the device's private key.
  const auto pub_cert =
      test::run_command("openssl x509 -in " + shell_quote(d.file("leaf.pem")) + " -noout -pubkey");
  const auto pub_key =
      test::run_command("openssl pkey -in " + shell_quote(d.file("k.pem")) + " -pubout");
  CHECK(pub_cert.out == pub_key.out);
  CHECK(test::run_command("openssl verify -CAfile " + shell_quote(d.file("root.pem")) + " " +
                          shell_quote(d.file("leaf.pem")))
            .status == 0);
  // The daemon's fast path gives a certificate of the same shape for the same key.
  const auto enc = pki::issue_encoded(leaf_spec("carol@op-a.example"), csr.public_key.get(),
                                      root.cert.get(), root.key.get(), now);
  write(d.file("fast.pem"), enc.pem);
  CHECK(test::run_command("openssl verify -x509_strict -purpose sslclient -CAfile " +
                          shell_quote(d.file("root.pem")) + " " + shell_quote(d.file("fast.pem")))
            .status == 0);
  const auto fast = pki::cert_from_pem(enc.pem);
  REQUIRE(fast);
  CHECK(pki::spki_sha256(fast.get()) == csr.spki_sha256);
  CHECK(pki::serial_hex(fast.get()) == enc.serial);
  CHECK(enc.not_after_ms == pki::not_after_ms(fast.get()));
  CHECK(pki::subject_nai(fast.get()) == "carol@op-a.example");
  CHECK_FALSE(pki::verify_chain(fast.get(), {}, {root.cert.get()}, pki::Purpose::tls_client, now));
}

TEST_CASE("a CSR with an altered signature, another key type or garbage is refused", "[pki][csr]") {
  auto key = pki::generate_key();
  const std::string pem = pki::make_csr(key.get(), "dave@op-a.example");
  REQUIRE(std::holds_alternative<pki::Csr>(pki::parse_csr(pem)));

  // Decode, flip one bit of the signature's last byte, re-encode.
  test::TempDir d;
  write(d.file("csr.pem"), pem);
  REQUIRE(test::run_command("openssl req -in " + shell_quote(d.file("csr.pem")) +
                            " -outform DER -out " + shell_quote(d.file("csr.der")))
              .status == 0);
  std::string der = read(d.file("csr.der"));
  der.back() = static_cast<char>(der.back() ^ 0x01);
  auto bad = pki::parse_csr(der);
  REQUIRE(std::holds_alternative<pki::PkiError>(bad));
  // A flipped bit in an ECDSA signature either fails to verify or fails to decode.
  const auto code = std::get<pki::PkiError>(bad).code;
  CHECK((code == pki::PkiErrc::bad_signature || code == pki::PkiErrc::malformed));
  // openssl agrees that it does not verify (`req -verify` exits 0 either way; its words differ).
  write(d.file("bad.der"), der);
  const auto said = [&](const char* file) {
    const auto r = test::run_command("openssl req -inform DER -in " + shell_quote(d.file(file)) +
                                     " -verify -noout");
    return r.out + r.err;
  };
  CHECK(said("bad.der").find("verify failure") != std::string::npos);
  CHECK(said("csr.der").find("verify OK") != std::string::npos);

  // The subject altered after signing: the signature no longer covers it.
  std::string der2 = read(d.file("csr.der"));
  const auto at = der2.find("dave");
  REQUIRE(at != std::string::npos);
  der2[at] = 'e';
  auto altered = pki::parse_csr(der2);
  REQUIRE(std::holds_alternative<pki::PkiError>(altered));
  CHECK(std::get<pki::PkiError>(altered).code == pki::PkiErrc::bad_signature);

  REQUIRE(test::run_command("openssl req -new -newkey rsa:2048 -nodes -subj /CN=x -keyout " +
                            shell_quote(d.file("rk.pem")) + " -out " +
                            shell_quote(d.file("rsa.pem")) + " 2>/dev/null")
              .status == 0);
  auto rsa = pki::parse_csr(read(d.file("rsa.pem")));
  REQUIRE(std::holds_alternative<pki::PkiError>(rsa));
  CHECK(std::get<pki::PkiError>(rsa).code == pki::PkiErrc::unsupported_key);

  auto junk = pki::parse_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n");
  REQUIRE(std::holds_alternative<pki::PkiError>(junk));
  CHECK(std::get<pki::PkiError>(junk).code == pki::PkiErrc::malformed);
}

TEST_CASE("PEM and DER round trips and a DER with trailing bytes is not a certificate", "[pki]") {
  const std::int64_t now = std::time(nullptr);
  Ca root(now);
  const std::string pem = pki::to_pem(root.cert.get()) + pki::to_pem(root.cert.get());
  CHECK(pki::certs_from_pem(pem).size() == 2);
  const auto der = pki::to_der(root.cert.get());
  REQUIRE(pki::cert_from_der(der));
  CHECK(pki::serial_hex(pki::cert_from_der(der).get()) == pki::serial_hex(root.cert.get()));
  CHECK_FALSE(pki::cert_from_der(der + "x"));
  CHECK(pki::key_from_pem(pki::private_key_pem(root.key.get())));
  CHECK_FALSE(pki::cert_from_pem("not pem"));
}

namespace {

std::string raw_to_der(const oag::aka::Bytes<64>& raw) {
  ECDSA_SIG* s = ECDSA_SIG_new();
  ECDSA_SIG_set0(s, BN_bin2bn(raw.data(), 32, nullptr), BN_bin2bn(raw.data() + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(s, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  ECDSA_SIG_free(s);
  return out;
}

oag::aka::Bytes<64> der_to_raw(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(s != nullptr);
  oag::aka::Bytes<64> raw{};
  BN_bn2binpad(ECDSA_SIG_get0_r(s), raw.data(), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(s), raw.data() + 32, 32);
  ECDSA_SIG_free(s);
  return raw;
}

}  // namespace

TEST_CASE("ES256 with raw R and S: ours verifies with openssl dgst and openssl's with ours",
          "[pki][openssl]") {
  oag::test::TempDir dir;
  const auto key = oag::pki::generate_key();
  const std::string key_file = dir.file("k.pem"), pub_file = dir.file("pub.pem"),
                    data_file = dir.file("data"), sig_file = dir.file("sig.der");
  std::ofstream(key_file) << oag::pki::private_key_pem(key.get());
  const std::string data = R"({"amount":"2.50","currency":"EUR","item":"coffee"})";
  std::ofstream(data_file, std::ios::binary) << data;
  REQUIRE(
      oag::test::run_command("openssl pkey -in " + key_file + " -pubout -out " + pub_file).status ==
      0);
  const auto ours = oag::pki::es256_sign(key.get(), data);
  std::ofstream(sig_file, std::ios::binary) << raw_to_der(ours);
  const auto v = oag::test::run_command("openssl dgst -sha256 -verify " + pub_file +
                                        " -signature " + sig_file + " " + data_file);
  INFO(v.out << v.err);
  CHECK(v.status == 0);
  CHECK(oag::pki::es256_verify(key.get(), data, ours));
  // openssl's signature, made raw, verifies with ours.
  REQUIRE(oag::test::run_command("openssl dgst -sha256 -sign " + key_file + " -out " + sig_file +
                                 " " + data_file)
              .status == 0);
  std::ifstream in(sig_file, std::ios::binary);
  const std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto theirs = der_to_raw(der);
  CHECK(oag::pki::es256_verify(key.get(), data, theirs));
  // Any flipped bit of the signature, another message or another key: refused.
  for (std::size_t i = 0; i < 64 * 8; ++i) {
    auto bent = ours;
    bent[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    if (oag::pki::es256_verify(key.get(), data, bent)) FAIL("bit " << i << " flipped verified");
  }
  CHECK_FALSE(oag::pki::es256_verify(key.get(), data + " ", ours));
  CHECK_FALSE(oag::pki::es256_verify(oag::pki::generate_key().get(), data, ours));
  CHECK_FALSE(oag::pki::es256_verify(key.get(), data, oag::aka::ByteView(ours.data(), 63)));
}
