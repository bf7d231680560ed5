// The USIM side: AUTN verification, SQN freshness per IND (TS 33.102 Annex C), resync.
#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/aka/usim.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using aka::Sqn;
using Check = aka::UsimSqnState::Check;

namespace {
const aka::SubscriberKeys& keys() {
  static const auto k = aka::SubscriberKeys::from_opc(
      aka::Algorithm::milenage, test::unhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
      test::unhex("cd63cb71954a9f4e48a5994e37a02baf"));
  return k;
}
aka::Bytes<16> rand_n(std::uint8_t n) {
  aka::Bytes<16> r{};
  r.fill(n);
  return r;
}
const aka::Bytes<2> kAmf{0x80, 0x00};
}  // namespace

TEST_CASE("Annex C check: fresh SQN accepted, replay rejected per IND, other IND accepted",
          "[usim]") {
  aka::UsimSqnState st(5);
  CHECK(st.check(Sqn::from_seq_ind(1, 0, 5)) == Check::accepted);
  st.accept(Sqn::from_seq_ind(1, 0, 5));
  CHECK(st.check(Sqn::from_seq_ind(1, 0, 5)) == Check::replayed);  // same SQN again
  CHECK(st.check(Sqn::from_seq_ind(0, 0, 5)) == Check::replayed);  // older SEQ, same IND
  CHECK(st.check(Sqn::from_seq_ind(1, 3, 5)) == Check::accepted);  // same SEQ, other slot
  st.accept(Sqn::from_seq_ind(10, 3, 5));
  CHECK(st.check(Sqn::from_seq_ind(2, 0, 5)) == Check::accepted);  // slot 0 only saw SEQ 1
  CHECK(st.check(Sqn::from_seq_ind(10, 3, 5)) == Check::replayed);
  CHECK(st.sqn_ms() == Sqn::from_seq_ind(10, 3, 5));
}

TEST_CASE("Annex C check: the optional Δ limit refuses SEQ too far ahead", "[usim]") {
  aka::UsimSqnState st(5, 100);
  st.accept(Sqn::from_seq_ind(50, 1, 5));
  CHECK(st.check(Sqn::from_seq_ind(150, 2, 5)) == Check::accepted);
  CHECK(st.check(Sqn::from_seq_ind(151, 2, 5)) == Check::out_of_range);
  aka::UsimSqnState no_delta(5);
  CHECK(no_delta.check(Sqn::from_seq_ind(1u << 30, 2, 5)) == Check::accepted);
}

TEST_CASE("USIM state is restorable from its array", "[usim]") {
  aka::UsimSqnState st(2);
  st.accept(Sqn::from_seq_ind(7, 2, 2));
  aka::UsimSqnState back(2, st.seq_ms());
  CHECK(back.check(Sqn::from_seq_ind(7, 2, 2)) == Check::replayed);
  CHECK_THROWS_AS(aka::UsimSqnState(2, std::vector<std::uint64_t>(3)), std::invalid_argument);
}

TEST_CASE("USIM run: success, replay → AUTS the home side verifies, wrong K → MAC failure",
          "[usim]") {
  aka::UsimSqnState usim(5);
  const auto q = aka::generate_quintet(keys(), rand_n(1), Sqn::from_seq_ind(5, 0, 5), kAmf);

  auto out = aka::usim_run_aka(keys(), q.rand, q.autn, usim);
  REQUIRE(std::holds_alternative<aka::AkaSuccess>(out));
  const auto& ok = std::get<aka::AkaSuccess>(out);
  CHECK(ok.res == q.xres);
  CHECK(ok.ck == q.ck);
  CHECK(ok.ik == q.ik);
  CHECK(ok.sqn == q.sqn);

  // The same vector again: MAC is right, SQN is stale → AUTS carrying SQN_MS.
  out = aka::usim_run_aka(keys(), q.rand, q.autn, usim);
  REQUIRE(std::holds_alternative<aka::AkaSyncFailure>(out));
  const auto recovered = aka::verify_auts(keys(), q.rand, std::get<aka::AkaSyncFailure>(out).auts);
  REQUIRE(recovered.has_value());
  CHECK(*recovered == Sqn::from_seq_ind(5, 0, 5));

  // The home side moves past SQN_MS; the next vector is accepted.
  const auto next = aka::generate_quintet(keys(), rand_n(2),
                                          Sqn::from_seq_ind(recovered->seq(5) + 1, 0, 5), kAmf);
  CHECK(std::holds_alternative<aka::AkaSuccess>(
      aka::usim_run_aka(keys(), next.rand, next.autn, usim)));

  // A vector from another K fails the MAC and leaves the state alone.
  const auto other = aka::SubscriberKeys::from_opc(aka::Algorithm::milenage,
                                                   test::unhex("fec86ba6eb707ed08905757b1bb44b8f"),
                                                   test::unhex("1006020f0a478bf6b699f15c062e42b3"));
  const auto forged = aka::generate_quintet(other, rand_n(3), Sqn::from_seq_ind(100, 1, 5), kAmf);
  const auto before = usim.seq_ms();
  CHECK(std::holds_alternative<aka::AkaMacFailure>(
      aka::usim_run_aka(keys(), forged.rand, forged.autn, usim)));
  CHECK(usim.seq_ms() == before);

  // A tampered AUTN (one bit of the concealed SQN) fails the MAC too.
  auto tampered = next.autn;
  tampered[2] ^= 0x10;
  CHECK(std::holds_alternative<aka::AkaMacFailure>(
      aka::usim_run_aka(keys(), next.rand, tampered, usim)));
}
