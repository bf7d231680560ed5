// The TS 34.108 test algorithm XOR against the shipped example (cross-checked with osmo-auc-gen).
#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/aka/vector.hpp"
#include "proto/aka/xor_test.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using aka::to_hex;

TEST_CASE("XOR test algorithm reproduces the shipped example", "[xor]") {
  const auto t = test::load_vectors("other_vectors.json").at("xor_ts34108_example");
  const auto k = test::unhex("465b5ce8b199b49faa5f0a2ee238a6bc");
  REQUIRE(to_hex(k) == t.at("K").get<std::string>());
  const auto keys = aka::SubscriberKeys::from_opc(aka::Algorithm::xor_test, k, {});
  const auto rand = test::unhex_fixed<16>(t.at("RAND"));
  const auto sqn = aka::Sqn::from_bytes(test::unhex_fixed<6>(t.at("SQN")));
  const auto amf = test::unhex_fixed<2>(t.at("AMF"));

  const auto q = aka::generate_quintet(keys, rand, sqn, amf);
  CHECK(to_hex(q.autn) == t.at("AUTN").get<std::string>());
  CHECK(to_hex(q.xres.expose()) == t.at("RES").get<std::string>());
  CHECK(to_hex(q.ck.expose()) == t.at("CK").get<std::string>());
  CHECK(to_hex(q.ik.expose()) == t.at("IK").get<std::string>());

  const auto tr = aka::generate_triplet(keys, rand);
  CHECK(to_hex(tr.sres.expose()) == t.at("SRES_c2").get<std::string>());
  CHECK(to_hex(tr.kc.expose()) == t.at("Kc_c3").get<std::string>());
}

TEST_CASE("XOR MAC-S uses AMF 0000 and f5* equals f5", "[xor]") {
  const auto k = test::unhex_secret<16>("000102030405060708090a0b0c0d0e0f");
  const aka::Bytes<16> rand{};
  const auto r = aka::xor_test::compute(k, rand, test::unhex_fixed<6>("000000000020"),
                                        test::unhex_fixed<2>("8000"));
  CHECK(to_hex(r.mac_a) == "0001020304258607");
  CHECK(to_hex(r.mac_s) == "0001020304250607");
  CHECK(to_hex(r.ak.expose()) == "030405060708");
}
