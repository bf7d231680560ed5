// Every value of the §7 key schedule recomputed from its definition with OpenSSL's primitives
// directly (HMAC, SHA-256, X25519, AES-256-GCM; HKDF written out from RFC 5869), so that the
// library and the definition cannot drift apart together.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "proto/aka/hex.hpp"
#include "proto/login/keys.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using Buf = std::vector<std::uint8_t>;

namespace {

Buf bytes(std::string_view s) {
  return Buf(s.begin(), s.end());
}

Buf cat(std::initializer_list<Buf> parts) {
  Buf out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Buf len_prefixed(std::string_view s) {
  Buf out(2 + s.size());
  out[0] = static_cast<std::uint8_t>(s.size() >> 8);
  out[1] = static_cast<std::uint8_t>(s.size());
  std::copy(s.begin(), s.end(), out.begin() + 2);
  return out;
}

Buf hmac(const Buf& key, const Buf& data) {
  unsigned char out[32];
  unsigned n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out, &n);
  return Buf(out, out + n);
}

Buf sha(const Buf& data) {
  unsigned char out[32];
  SHA256(data.data(), data.size(), out);
  return Buf(out, out + 32);
}

// RFC 5869: PRK = HMAC(salt or 32 zeros, IKM); OKM(32) = T(1) = HMAC(PRK, info ‖ 0x01).
Buf extract(Buf salt, const Buf& ikm) {
  if (salt.empty()) salt.assign(32, 0);
  return hmac(salt, ikm);
}
Buf expand32(const Buf& prk, Buf info) {
  info.push_back(1);
  return hmac(prk, info);
}

Buf x25519(const Buf& priv, const Buf& pub) {
  EVP_PKEY* a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), 32);
  EVP_PKEY* b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, pub.data(), 32);
  EVP_PKEY_CTX* c = EVP_PKEY_CTX_new(a, nullptr);
  Buf z(32);
  std::size_t n = 32;
  REQUIRE(EVP_PKEY_derive_init(c) == 1);
  REQUIRE(EVP_PKEY_derive_set_peer(c, b) == 1);
  REQUIRE(EVP_PKEY_derive(c, z.data(), &n) == 1);
  EVP_PKEY_CTX_free(c);
  EVP_PKEY_free(a);
  EVP_PKEY_free(b);
  return z;
}

// AES-256-GCM decryption with an explicit 12-byte zero IV.
std::optional<std::string> gcm_open(const Buf& key, const Buf& blob, const Buf& aad) {
  const unsigned char iv[12] = {};
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  std::string out(blob.size() - 16, '\0');
  int n = 0;
  EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr);
  EVP_DecryptInit_ex(c, nullptr, nullptr, key.data(), iv);
  if (!aad.empty()) EVP_DecryptUpdate(c, nullptr, &n, aad.data(), static_cast<int>(aad.size()));
  EVP_DecryptUpdate(c, reinterpret_cast<unsigned char*>(out.data()), &n, blob.data(),
                    static_cast<int>(blob.size() - 16));
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16,
                      const_cast<std::uint8_t*>(blob.data()) + blob.size() - 16);
  const bool ok = EVP_DecryptFinal_ex(c, nullptr, &n) == 1;
  EVP_CIPHER_CTX_free(c);
  if (!ok) return std::nullopt;
  return out;
}

template <std::size_t N>
Buf of(const aka::Secret<N>& s) {
  return Buf(s.expose().begin(), s.expose().end());
}
template <std::size_t N>
Buf of(const aka::Bytes<N>& b) {
  return Buf(b.begin(), b.end());
}

login::Nonce nonce(std::uint8_t fill) {
  login::Nonce n;
  n.fill(fill);
  return n;
}

}  // namespace

TEST_CASE("scrypt matches RFC 7914 section 12", "[login]") {
  struct V {
    const char* p;
    const char* s;
    std::uint64_t n;
    std::uint32_t r, par;
    const char* dk;
  };
  const V vectors[] = {
      {"", "", 16, 1, 1,
       "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0"
       "fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"},
      {"password", "NaCl", 1024, 8, 16,
       "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff10927"
       "9d9830dac727afb94a83ee6d8360cbdfa2cc0640"},
      {"pleaseletmein", "SodiumChloride", 16384, 8, 1,
       "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705"
       "242a9af9e61e85dc0d651e40dfcf017b45575887"},
      // The fourth vector (N = 2^20, 1 GiB): the parameters a login never uses, but the memory
      // allowance must let them through.
      {"pleaseletmein", "SodiumChloride", 1048576, 8, 1,
       "2101cb9b6a511aaeaddbbe09cf70f881ec568d574a2ffd4dabe5ee9820adaa478e56fd8f4ba5d09ffa1c6d927"
       "c40f4c337304049e8a952fbcbf45c6fa77a41a4"},
  };
  for (const auto& v : vectors) {
    Buf out(64);
    const Buf salt = bytes(v.s);
    login::scrypt(v.p, salt, v.n, v.r, v.par, out);
    CHECK(aka::to_hex(out) == v.dk);
  }
}

TEST_CASE("pwd_key is scrypt of the password under the lower-case NAI", "[login]") {
  const auto k = login::pwd_key("correct horse battery", "Carol@OP-A.example");
  unsigned char want[32];
  const std::string salt = "oag1 pwd carol@op-a.example", pw = "correct horse battery";
  REQUIRE(EVP_PBE_scrypt(pw.data(), pw.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                         salt.size(), 1u << 15, 8, 1, 64u << 20, want, 32) == 1);
  CHECK(aka::to_hex(k.expose()) == aka::to_hex(aka::ByteView(want, 32)));
  CHECK(!(login::pwd_key("correct horse batterz", "carol@op-a.example") == k));
}

TEST_CASE("HV and HV2 are the HMACs of their definitions", "[login]") {
  aka::Secret<32> pk(*aka::from_hex_fixed<32>(std::string(64, 'a')));
  login::HvInput in;
  in.nai = "carol@op-a.example";
  in.n1 = nonce(1);
  in.time = 1764547200;
  in.visited_realm = "op-b.example";
  in.dp_sha256.fill(2);
  in.spki_sha256.fill(3);
  const auto hv = login::hv(pk, in);
  const Buf msg =
      cat({bytes("oag1 hv"), len_prefixed(in.nai), of(in.n1), len_prefixed("1764547200"),
           len_prefixed(in.visited_realm), of(in.dp_sha256), of(in.spki_sha256)});
  CHECK(of(hv) == hmac(of(pk), msg));
  const auto n2 = nonce(4);
  CHECK(of(login::hv2(pk, n2, hv)) == hmac(of(pk), cat({bytes("oag1 hv2"), of(n2), of(hv)})));
  // Each input matters.
  auto other = in;
  other.visited_realm = "op-c.example";
  CHECK(!(login::hv(pk, other) == hv));
  other = in;
  other.time += 1;
  CHECK(!(login::hv(pk, other) == hv));
}

TEST_CASE("X25519 matches RFC 7748 section 6.1", "[login]") {
  login::PrivateKey alice(
      *aka::from_hex_fixed<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  const auto alice_pub = login::public_of(alice);
  CHECK(aka::to_hex(alice_pub) ==
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const auto bob_pub =
      *aka::from_hex_fixed<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto z = login::x25519(alice, bob_pub);
  REQUIRE(z);
  CHECK(aka::to_hex(z->expose()) ==
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  // A low-order point gives an all-zero secret, which is refused.
  CHECK_FALSE(login::x25519(alice, login::PublicKey{}));
}

TEST_CASE(
    "the seal: k_seal from Z and AES-256-GCM with a zero nonce and refused on any flipped bit",
    "[login]") {
  const auto ha = login::generate_keypair();
  const auto e = login::generate_keypair();
  const auto n1 = nonce(7);
  const Buf aad = sha(bytes("the canonical M2"));
  const std::string plain = R"({"hv":"00","id":"carol@op-a.example"})";
  const auto s = login::seal(e.priv, ha.pub, n1, plain, aad);
  // Independently: E first, then the AEAD under HKDF(Z, salt n1, "oag1 seal" ‖ E ‖ login_pub).
  REQUIRE(s.blob.size() == 32 + plain.size() + 16);
  CHECK(Buf(s.blob.begin(), s.blob.begin() + 32) == of(e.pub));
  const Buf z = x25519(of(e.priv), of(ha.pub));
  CHECK(of(s.z) == z);
  const Buf k = expand32(extract(of(n1), z), cat({bytes("oag1 seal"), of(e.pub), of(ha.pub)}));
  CHECK(gcm_open(k, Buf(s.blob.begin() + 32, s.blob.end()), aad) == plain);
  // The HA opens it, with the same Z.
  const auto o = login::open(ha.priv, n1, s.blob, aad);
  REQUIRE(o);
  CHECK(o->plaintext == plain);
  CHECK(of(o->z) == z);
  // Any bit of the blob, any bit of the AAD, another n1 or another login key: refused.
  for (std::size_t i = 0; i < s.blob.size() * 8; ++i) {
    Buf b = s.blob;
    b[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    if (login::open(ha.priv, n1, b, aad)) FAIL("blob bit " << i << " flipped was accepted");
  }
  for (std::size_t i = 0; i < aad.size() * 8; ++i) {
    Buf a = aad;
    a[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    if (login::open(ha.priv, n1, s.blob, a)) FAIL("aad bit " << i << " flipped was accepted");
  }
  CHECK_FALSE(login::open(ha.priv, nonce(8), s.blob, aad));
  CHECK_FALSE(login::open(login::generate_keypair().priv, n1, s.blob, aad));
  CHECK_FALSE(login::open(ha.priv, n1, Buf(s.blob.begin(), s.blob.begin() + 40), aad));
}

TEST_CASE("K and Ks2 and Ks3 and the NACK key and the confirmation follow their definitions",
          "[login]") {
  aka::Secret<32> z(*aka::from_hex_fixed<32>(std::string(64, '1')));
  aka::Secret<32> pk(*aka::from_hex_fixed<32>(std::string(64, '2')));
  const auto n1 = nonce(1), n2 = nonce(2), n3 = nonce(3);
  const auto k = login::k_master(z, pk, n1);
  const Buf prk = extract(of(n1), cat({of(z), of(pk)}));
  CHECK(of(k) == prk);
  const auto ks2 = login::ks2(k, n2);
  const auto ks3 = login::ks3(k, n3);
  CHECK(of(ks2) == expand32(prk, cat({bytes("oag1 ks2"), of(n2)})));
  CHECK(of(ks3) == expand32(prk, cat({bytes("oag1 ks3"), of(n3)})));
  CHECK(!(ks2 == ks3));
  CHECK(of(login::nack_key(z)) == expand32(extract({}, of(z)), bytes("oag1 nack")));
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  CHECK(of(login::confirm(ks3, "carol@op-a.example", n2, n3, pem)) ==
        hmac(of(ks3), cat({bytes("oag1 ack"), len_prefixed("carol@op-a.example"), of(n2), of(n3),
                           sha(bytes(pem))})));
}

TEST_CASE("the request MAC covers method and path and time and body each length-prefixed",
          "[login]") {
  aka::Secret<32> key(*aka::from_hex_fixed<32>(std::string(64, '5')));
  const auto mac = login::request_mac(key, "POST", "/v1/visitor/charges", 1764547200123, "{}");
  CHECK(of(mac) == hmac(of(key), cat({len_prefixed("POST"), len_prefixed("/v1/visitor/charges"),
                                      len_prefixed("1764547200123"), sha(bytes("{}"))})));
  // The boundary between path and time is fixed by the lengths.
  CHECK(!(login::request_mac(key, "POST", "/v1/x1", 23, "") ==
          login::request_mac(key, "POST", "/v1/x", 123, "")));
  CHECK(!(login::request_mac(key, "POST", "/v1/visitor/charges", 1764547200123, "{ }") == mac));
}

TEST_CASE("AEAD helpers refuse a flipped bit and another AAD", "[login]") {
  aka::Secret<32> key(*aka::from_hex_fixed<32>(std::string(64, '9')));
  const Buf aad = bytes("aad");
  const auto blob = login::aead_seal(key, "hello", aad);
  CHECK(gcm_open(of(key), blob, aad) == "hello");
  CHECK(login::aead_open(key, blob, aad) == "hello");
  for (std::size_t i = 0; i < blob.size() * 8; ++i) {
    Buf b = blob;
    b[i / 8] ^= static_cast<std::uint8_t>(1u << (i % 8));
    if (login::aead_open(key, b, aad)) FAIL("bit " << i << " flipped was accepted");
  }
  CHECK_FALSE(login::aead_open(key, blob, bytes("aae")));
  CHECK_FALSE(login::aead_open(key, Buf(blob.begin(), blob.begin() + 10), aad));
}

TEST_CASE("the login key file is PKCS#8 PEM that openssl reads", "[login]") {
  const auto kp = login::generate_keypair();
  const auto pem = login::private_key_pem(kp.priv);
  CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  const auto back = login::private_key_from_pem(pem);
  REQUIRE(back);
  CHECK(*back == kp.priv);
  CHECK_FALSE(login::private_key_from_pem(
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
  // openssl pkey derives the same public key from the file.
  test::TempDir dir;
  const auto file = dir.file("login.key");
  { std::ofstream(file) << pem; }
  const auto out =
      test::run_command("openssl pkey -in " + test::shell_quote(file) + " -pubout -outform DER");
  REQUIRE(out.status == 0);
  // The DER SubjectPublicKeyInfo of an X25519 key ends with the 32 raw bytes.
  REQUIRE(out.out.size() >= 32);
  CHECK(aka::to_hex(aka::ByteView(
            reinterpret_cast<const std::uint8_t*>(out.out.data()) + out.out.size() - 32, 32)) ==
        aka::to_hex(kp.pub));
}
