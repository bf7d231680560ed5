#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/session/keys.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;

namespace {
session::SessionInput input(const std::vector<std::uint8_t>& kb,
                            const std::vector<std::uint8_t>& ka) {
  session::SessionInput in;
  in.call_id = "a84b4c76e66710@pc33.op-a.example";
  in.nai_a = "alice@op-a.example";
  in.nai_b = "bob@op-b.example";
  in.rand_b = *aka::from_hex_fixed<16>("23553cbe9637a89d218ae64dae47bf35");
  in.rand_a = *aka::from_hex_fixed<16>("9f7c8d021accf4db213ccff0c7f71a6a");
  in.key_b = kb;
  in.key_a = ka;
  return in;
}
}  // namespace

TEST_CASE("session keys: HKDF-SHA256 as specified, both directions distinct", "[session]") {
  const std::vector<std::uint8_t> kb = test::unhex("9e3d6f4a8b2c1d0e"),
                                  ka = test::unhex("0102030405060708");
  const auto k = session::derive(input(kb, ka));
  // Independent check: HKDF from its definition (RFC 5869) with OpenSSL's HMAC. With L = 32,
  // OKM = T(1) = HMAC(PRK, info ‖ 0x01), PRK = HMAC(SHA-256(Call-ID), Kc_B ‖ Kc_A).
  const auto in0 = input(kb, ka);
  unsigned char salt[32], prk[32], okm[32];
  unsigned len = 0;
  SHA256(reinterpret_cast<const unsigned char*>(in0.call_id.data()), in0.call_id.size(), salt);
  std::vector<std::uint8_t> ikm = kb;
  ikm.insert(ikm.end(), ka.begin(), ka.end());
  HMAC(EVP_sha256(), salt, 32, ikm.data(), ikm.size(), prk, &len);
  std::vector<std::uint8_t> info{'o', 'a', 'g', '1', 0, 18};
  info.insert(info.end(), in0.nai_a.begin(), in0.nai_a.end());
  info.push_back(0);
  info.push_back(16);
  info.insert(info.end(), in0.nai_b.begin(), in0.nai_b.end());
  info.insert(info.end(), in0.rand_b.begin(), in0.rand_b.end());
  info.insert(info.end(), in0.rand_a.begin(), in0.rand_a.end());
  info.push_back(1);
  HMAC(EVP_sha256(), prk, 32, info.data(), info.size(), okm, &len);
  CHECK(aka::to_hex(k.ssk.expose()) == aka::to_hex(aka::ByteView(okm, 32)));
  const auto again = session::derive(input(kb, ka));
  CHECK(k.ssk == again.ssk);
  CHECK(k.fingerprint() == again.fingerprint());
  CHECK(k.fingerprint().size() == 16);
  CHECK(!(k.a_to_b.master_key == k.b_to_a.master_key));
  // Every input matters.
  auto in = input(kb, ka);
  in.call_id += "x";
  CHECK(!(session::derive(in).ssk == k.ssk));
  in = input(kb, ka);
  in.nai_a = "alice@op-a.exampl";
  in.nai_b = "ebob@op-b.example";  // same concatenation, different names
  CHECK(!(session::derive(in).ssk == k.ssk));
  in = input(ka, kb);  // keys swapped
  CHECK(!(session::derive(in).ssk == k.ssk));
  in = input(kb, ka);
  std::swap(in.rand_a, in.rand_b);
  CHECK(!(session::derive(in).ssk == k.ssk));
}
