// Milenage against all 20 test sets of TS 35.208 §4.3: every output, OPc from OP, and the AUTN
// of a full quintet.
#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/aka/milenage.hpp"
#include "proto/aka/vector.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using aka::to_hex;

TEST_CASE("Milenage reproduces every output of TS 35.208 test sets 1-20", "[milenage]") {
  const auto doc = test::load_vectors("milenage_ts35208.json");
  const auto& sets = doc.at("test_sets");
  REQUIRE(sets.size() == 20);
  for (const auto& t : sets) {
    const std::string name = t.at("K").get<std::string>();
    INFO("test set " << t.at("test_set").get<int>());
    const auto k = test::unhex_secret<16>(t.at("K"));
    const auto op = test::unhex_secret<16>(t.at("OP"));
    const auto rand = test::unhex_fixed<16>(t.at("RAND"));
    const auto sqn = test::unhex_fixed<6>(t.at("SQN"));
    const auto amf = test::unhex_fixed<2>(t.at("AMF"));

    const auto opc = aka::milenage::compute_opc(k, op);
    CHECK(to_hex(opc.expose()) == t.at("OPc").get<std::string>());

    const auto r = aka::milenage::compute(k, opc, rand, sqn, amf);
    CHECK(to_hex(r.mac_a) == t.at("f1").get<std::string>());
    CHECK(to_hex(r.mac_s) == t.at("f1star").get<std::string>());
    CHECK(to_hex(r.res.expose()) == t.at("f2").get<std::string>());
    CHECK(to_hex(r.ck.expose()) == t.at("f3").get<std::string>());
    CHECK(to_hex(r.ik.expose()) == t.at("f4").get<std::string>());
    CHECK(to_hex(r.ak.expose()) == t.at("f5").get<std::string>());
    CHECK(to_hex(r.ak_star.expose()) == t.at("f5star").get<std::string>());

    // The same through the subscriber-level API, from OP.
    const auto keys =
        aka::SubscriberKeys::from_op(aka::Algorithm::milenage, k.expose(), op.expose());
    const auto q = aka::generate_quintet(keys, rand, aka::Sqn::from_bytes(sqn), amf);
    const auto sqn_xor_ak =
        aka::xor_bytes(sqn, aka::Bytes<6>{r.ak.data()[0], r.ak.data()[1], r.ak.data()[2],
                                          r.ak.data()[3], r.ak.data()[4], r.ak.data()[5]});
    CHECK(to_hex(q.autn) ==
          to_hex(sqn_xor_ak) + t.at("AMF").get<std::string>() + t.at("f1").get<std::string>());
    CHECK(to_hex(q.xres.expose()) == t.at("f2").get<std::string>());
    CHECK(to_hex(q.ck.expose()) == t.at("f3").get<std::string>());
    CHECK(to_hex(q.ik.expose()) == t.at("f4").get<std::string>());
  }
}

TEST_CASE("Milenage partial computations agree with the full one", "[milenage]") {
  const auto doc = test::load_vectors("milenage_ts35208.json");
  const auto& t = doc.at("test_sets").at(0);
  const auto k = test::unhex_secret<16>(t.at("K"));
  const auto opc = test::unhex_secret<16>(t.at("OPc"));
  const auto rand = test::unhex_fixed<16>(t.at("RAND"));
  const auto sqn = test::unhex_fixed<6>(t.at("SQN"));
  const auto amf = test::unhex_fixed<2>(t.at("AMF"));
  const auto f1_only = aka::milenage::compute(k, opc, rand, sqn, amf, aka::milenage::kF1);
  const auto resync = aka::milenage::compute(k, opc, rand, sqn, amf, aka::milenage::kResync);
  CHECK(to_hex(f1_only.mac_a) == t.at("f1").get<std::string>());
  CHECK(to_hex(f1_only.res.expose()) == "0000000000000000");  // not asked for, not computed
  CHECK(to_hex(resync.mac_s) == t.at("f1star").get<std::string>());
  CHECK(to_hex(resync.ak_star.expose()) == t.at("f5star").get<std::string>());
}
