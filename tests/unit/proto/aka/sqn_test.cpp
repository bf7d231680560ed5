// SQN = SEQ ‖ IND and AUTS round trips for every algorithm.
#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/aka/vector.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using aka::Sqn;

TEST_CASE("SQN splits into SEQ and IND", "[sqn]") {
  const auto s = Sqn::from_seq_ind(1000, 7, 5);
  CHECK(s.value == (1000u << 5 | 7u));
  CHECK(s.seq(5) == 1000);
  CHECK(s.ind(5) == 7);
  CHECK(Sqn::from_bytes(s.bytes()) == s);
  CHECK(aka::to_hex(Sqn::from_value(0xff9bb4d0b607).bytes()) == "ff9bb4d0b607");
  CHECK(Sqn::from_seq_ind(5, 0, 0).value == 5);
  CHECK_THROWS_AS(Sqn::from_seq_ind(1, 32, 5), std::out_of_range);              // IND too big
  CHECK_THROWS_AS(Sqn::from_seq_ind(Sqn::kMax >> 4, 0, 5), std::out_of_range);  // SEQ exhausted
  CHECK_NOTHROW(Sqn::from_seq_ind(Sqn::kMax >> 5, 31, 5));
  CHECK_THROWS_AS(Sqn::from_value(Sqn::kMax + 1), std::out_of_range);
  CHECK_THROWS_AS(Sqn::from_seq_ind(1, 0, aka::kMaxIndLen + 1), std::out_of_range);
}

namespace {
std::vector<aka::SubscriberKeys> all_algorithms() {
  std::vector<aka::SubscriberKeys> v;
  v.push_back(aka::SubscriberKeys::from_opc(aka::Algorithm::milenage,
                                            test::unhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
                                            test::unhex("cd63cb71954a9f4e48a5994e37a02baf")));
  v.push_back(aka::SubscriberKeys::from_opc(aka::Algorithm::xor_test,
                                            test::unhex("465b5ce8b199b49faa5f0a2ee238a6bc"), {}));
  v.push_back(aka::SubscriberKeys::from_op(
      aka::Algorithm::tuak, test::unhex("abababababababababababababababab"),
      test::unhex("5555555555555555555555555555555555555555555555555555555555555555")));
  v.push_back(aka::SubscriberKeys::from_op(
      aka::Algorithm::tuak,
      test::unhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0"),
      test::unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")));
  return v;
}
}  // namespace

TEST_CASE("AUTS round trip: build, verify, recover SQN_MS and any flipped bit fails", "[sqn][auts]") {
  const auto rand = test::unhex_fixed<16>("23553cbe9637a89d218ae64dae47bf35");
  for (const auto& keys : all_algorithms()) {
    INFO(aka::to_string(keys.algorithm) << " K of " << keys.k.size() << " bytes");
    for (std::uint64_t v : {std::uint64_t{1}, std::uint64_t{0x123456789a}, Sqn::kMax}) {
      const auto sqn_ms = Sqn::from_value(v);
      const auto auts = aka::build_auts(keys, rand, sqn_ms);
      const auto got = aka::verify_auts(keys, rand, auts);
      REQUIRE(got.has_value());
      CHECK(*got == sqn_ms);
      for (std::size_t bit = 0; bit < auts.size() * 8; ++bit) {
        auto bad = auts;
        bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        if (aka::verify_auts(keys, rand, bad)) FAIL("flipped bit " << bit << " still verifies");
      }
      auto other_rand = rand;
      other_rand[0] ^= 1;
      CHECK_FALSE(aka::verify_auts(keys, other_rand, auts).has_value());
    }
  }
}

TEST_CASE("Milenage AUTS matches f1*/f5* of TS 35.208 set 1", "[sqn][auts]") {
  const auto keys = aka::SubscriberKeys::from_opc(aka::Algorithm::milenage,
                                                  test::unhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
                                                  test::unhex("cd63cb71954a9f4e48a5994e37a02baf"));
  // f1* of set 1 uses AMF b9b9; AUTS uses AMF 0000, so only the concealed SQN part is fixed:
  const auto auts = aka::build_auts(keys, test::unhex_fixed<16>("23553cbe9637a89d218ae64dae47bf35"),
                                    Sqn::from_bytes(test::unhex_fixed<6>("ff9bb4d0b607")));
  CHECK(aka::to_hex(aka::ByteView(auts).first(6)) ==
        aka::to_hex(aka::xor_bytes(test::unhex_fixed<6>("ff9bb4d0b607"),
                                   test::unhex_fixed<6>("451e8beca43b"))));
}

TEST_CASE("Subscriber keys refuse lengths the algorithm cannot use", "[keys]") {
  using aka::Algorithm;
  const auto k16 = test::unhex("000102030405060708090a0b0c0d0e0f");
  const auto k32 = test::unhex("000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f");
  CHECK_THROWS_AS(aka::SubscriberKeys::from_opc(Algorithm::milenage, k32, k16),
                  std::invalid_argument);
  CHECK_THROWS_AS(aka::SubscriberKeys::from_opc(Algorithm::milenage, k16, k32),
                  std::invalid_argument);
  CHECK_THROWS_AS(aka::SubscriberKeys::from_op(Algorithm::milenage, k16, k32),
                  std::invalid_argument);
  CHECK_THROWS_AS(aka::SubscriberKeys::from_opc(Algorithm::tuak, k16, k16), std::invalid_argument);
  CHECK_THROWS_AS(aka::SubscriberKeys::from_opc(Algorithm::xor_test, k32, {}),
                  std::invalid_argument);
  aka::tuak::Params wide;
  wide.ck_len = 32;
  CHECK_THROWS_AS(aka::SubscriberKeys::from_opc(Algorithm::tuak, k32, k32, wide),
                  std::invalid_argument);
  CHECK_NOTHROW(aka::SubscriberKeys::from_opc(Algorithm::tuak, k32, k32));
  CHECK(aka::parse_algorithm("xor") == Algorithm::xor_test);
  CHECK_FALSE(aka::parse_algorithm("comp128").has_value());
}
