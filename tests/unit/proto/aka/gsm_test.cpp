// GSM-Milenage (TS 55.205 test sets 1-19) and the conversion functions c2/c3.
#include <catch2/catch.hpp>

#include "proto/aka/gsm.hpp"
#include "proto/aka/hex.hpp"
#include "proto/aka/milenage.hpp"
#include "proto/aka/vector.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using aka::to_hex;

TEST_CASE("GSM-Milenage reproduces TS 55.205 test sets 1-19", "[gsm]") {
  const auto doc = test::load_vectors("gsm_milenage_ts55205.json");
  const auto& sets = doc.at("test_sets");
  REQUIRE(sets.size() == 19);
  for (const auto& t : sets) {
    INFO("test set " << t.at("test_set").get<int>());
    const auto k = test::unhex_secret<16>(t.at("K"));
    const auto opc = test::unhex_secret<16>(t.at("OPc"));
    const auto rand = test::unhex_fixed<16>(t.at("RAND"));
    const auto g = aka::gsm_milenage(k, opc, rand);
    CHECK(to_hex(g.sres.expose()) == t.at("SRES1").get<std::string>());
    CHECK(to_hex(g.kc.expose()) == t.at("Kc").get<std::string>());

    // SRES2, the alternative of some implementations, is the first 32 bits of RES.
    const auto m = aka::milenage::compute(k, opc, rand, {}, {}, aka::milenage::kF2345);
    CHECK(to_hex(m.res.expose()).substr(0, 8) == t.at("SRES2").get<std::string>());

    // A sim triplet comes from the same K/OPc as the quintet.
    const auto keys =
        aka::SubscriberKeys::from_opc(aka::Algorithm::milenage, k.expose(), opc.expose());
    const auto tr = aka::generate_triplet(keys, rand);
    CHECK(to_hex(tr.sres.expose()) == t.at("SRES1").get<std::string>());
    CHECK(to_hex(tr.kc.expose()) == t.at("Kc").get<std::string>());
    CHECK(tr.rand == rand);
  }
}

TEST_CASE("c2 folds RES of any length into 32 bits and c3 folds CK and IK", "[gsm]") {
  const auto res16 = test::unhex("0102030405060708090a0b0c0d0e0f10");
  CHECK(to_hex(aka::c2(res16).expose()) ==
        aka::to_hex(aka::Bytes<4>{0x01 ^ 0x05 ^ 0x09 ^ 0x0d, 0x02 ^ 0x06 ^ 0x0a ^ 0x0e,
                                  0x03 ^ 0x07 ^ 0x0b ^ 0x0f, 0x04 ^ 0x08 ^ 0x0c ^ 0x10}));
  CHECK(to_hex(aka::c2(test::unhex("aabbccdd")).expose()) == "aabbccdd");
  // RES of 6 bytes is zero-padded to 128 bits (TS 33.102 §6.8.1.2): 11223344 ⊕ 55660000.
  // (This check never ran before: a ';' in the test's name made CTest run a filter that
  // matched no test, and it expected 44664433.)
  CHECK(to_hex(aka::c2(test::unhex("112233445566")).expose()) == "44443344");
  CHECK_THROWS_AS(aka::c2(test::unhex("aabbcc")), std::invalid_argument);
  CHECK_THROWS_AS(aka::c2(std::vector<std::uint8_t>(17, 1)), std::invalid_argument);

  const auto ck = test::unhex_secret<16>("00000000000000000000000000000001");
  const auto ik = test::unhex_secret<16>("80000000000000000000000000000000");
  CHECK(to_hex(aka::c3(ck, ik).expose()) == "8000000000000001");
}
