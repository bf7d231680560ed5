#include "proto/aka/usim.hpp"

namespace oag::aka {

AkaOutcome usim_run_aka(const SubscriberKeys& keys, const Bytes<16>& rand, const Bytes<16>& autn,
                        UsimSqnState& state) {
  // AK depends on RAND only: recover SQN from AUTN, then recompute the quintet for that SQN and
  // compare MACs. generate_quintet recomputes AK; the extra cost is one f5, never on a hot path.
  Bytes<2> amf{autn[6], autn[7]};
  const Bytes<16> probe_rand = rand;
  const auto probe = generate_quintet(keys, probe_rand, Sqn{0}, amf);
  Bytes<6> sqn_bytes{};
  for (int i = 0; i < 6; ++i) sqn_bytes[i] = autn[i] ^ probe.ak.data()[i];
  const Sqn sqn = Sqn::from_bytes(sqn_bytes);
  auto q = generate_quintet(keys, rand, sqn, amf);
  if (!equal_ct(ByteView(q.autn).subspan(8, 8), ByteView(autn).subspan(8, 8)))
    return AkaMacFailure{};
  if (state.check(sqn) != UsimSqnState::Check::accepted)
    return AkaSyncFailure{build_auts(keys, rand, state.sqn_ms())};
  state.accept(sqn);
  return AkaSuccess{q.xres, q.ck, q.ik, sqn};
}

}  // namespace oag::aka
