// AKA' CK'/IK' (RFC 5448 Appendix C cases 1-4) and 5G key derivations (TS 33.501 Annex A).
#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/aka/kdf.hpp"
#include "proto/aka/vector.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using aka::to_hex;

TEST_CASE("CK'/IK' reproduce RFC 5448 Appendix C cases 1-4", "[kdf]") {
  const auto cases =
      test::load_vectors("other_vectors.json").at("rfc5448_appendixC_eap_aka_prime").at("cases");
  REQUIRE(cases.size() == 4);
  for (const auto& c : cases) {
    INFO("case " << c.at("case").get<int>());
    const auto autn = test::unhex_fixed<16>(c.at("AUTN"));
    aka::Bytes<6> sqn_xor_ak{};
    std::copy_n(autn.begin(), 6, sqn_xor_ak.begin());
    const auto r =
        aka::ck_ik_prime(test::unhex_secret<16>(c.at("CK")), test::unhex_secret<16>(c.at("IK")),
                         c.at("network_name").get<std::string>(), sqn_xor_ak);
    CHECK(to_hex(r.ck_prime.expose()) == c.at("CK_prime").get<std::string>());
    CHECK(to_hex(r.ik_prime.expose()) == c.at("IK_prime").get<std::string>());
  }
}

TEST_CASE("RFC 5448 cases 1-2 come from Milenage set 19 with SQN 16f3b3f70fc2", "[kdf]") {
  const auto cases =
      test::load_vectors("other_vectors.json").at("rfc5448_appendixC_eap_aka_prime").at("cases");
  const auto keys = aka::SubscriberKeys::from_opc(aka::Algorithm::milenage,
                                                  test::unhex("5122250214c33e723a5dd523fc145fc0"),
                                                  test::unhex("981d464c7c52eb6e5036234984ad0bcf"));
  for (int i = 0; i < 2; ++i) {
    const auto& c = cases.at(i);
    const auto q = aka::generate_quintet(keys, test::unhex_fixed<16>(c.at("RAND")),
                                         aka::Sqn::from_bytes(test::unhex_fixed<6>("16f3b3f70fc2")),
                                         test::unhex_fixed<2>("c3ab"));
    CHECK(to_hex(q.autn) == c.at("AUTN").get<std::string>());
    CHECK(to_hex(q.xres.expose()) == c.at("RES").get<std::string>());
    CHECK(to_hex(q.ck.expose()) == c.at("CK").get<std::string>());
    CHECK(to_hex(q.ik.expose()) == c.at("IK").get<std::string>());
    const auto p =
        aka::ck_ik_prime(q.ck, q.ik, c.at("network_name").get<std::string>(), q.sqn_xor_ak());
    CHECK(to_hex(p.ck_prime.expose()) == c.at("CK_prime").get<std::string>());
  }
}

TEST_CASE("5G AKA: XRES*, HXRES*, KAUSF and KSEAF reproduce both shipped examples", "[kdf][5g]") {
  const auto examples = test::load_vectors("other_vectors.json").at("5g_aka_examples");
  REQUIRE(examples.size() == 2);
  for (const auto& e : examples) {
    const std::string snn = e.at("serving_network_name");
    INFO("SNN " << snn);
    const auto keys = aka::SubscriberKeys::from_opc(
        aka::Algorithm::milenage, test::unhex(e.at("K")), test::unhex(e.at("OPc")));
    const auto rand = test::unhex_fixed<16>(e.at("RAND"));
    const auto q =
        aka::generate_quintet(keys, rand, aka::Sqn::from_bytes(test::unhex_fixed<6>(e.at("SQN"))),
                              test::unhex_fixed<2>(e.at("AMF")));
    CHECK(to_hex(q.autn) == e.at("AUTN").get<std::string>());
    CHECK(to_hex(q.xres.expose()) == e.at("RES").get<std::string>());
    const auto xs = aka::res_star(q.ck, q.ik, snn, rand, q.xres.expose());
    CHECK(to_hex(xs.expose()) == e.at("XRES_star").get<std::string>());
    CHECK(to_hex(aka::hxres_star(rand, xs)) == e.at("HXRES_star").get<std::string>());
    const auto kausf = aka::kausf(q.ck, q.ik, snn, q.sqn_xor_ak());
    CHECK(to_hex(kausf.expose()) == e.at("KAUSF").get<std::string>());
    CHECK(to_hex(aka::kseaf(kausf, snn).expose()) == e.at("KSEAF").get<std::string>());
  }
}
