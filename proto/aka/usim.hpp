#pragma once
// The USIM side of AKA (TS 33.102 §6.3.3): verify AUTN, check SQN freshness, answer.

#include <variant>

#include "proto/aka/sqn.hpp"
#include "proto/aka/vector.hpp"

namespace oag::aka {

/// AUTN verified and SQN fresh: the response and keys.
struct AkaSuccess {
  SecretVec<32> res;  ///< RES
  Secret<16> ck;      ///< CK
  Secret<16> ik;      ///< IK
  Sqn sqn;            ///< the accepted SQN
};

/// MAC verified but SQN not fresh: AUTS for the home network to resynchronise.
struct AkaSyncFailure {
  Auts auts{};  ///< (SQN_MS ⊕ AK*) ‖ MAC-S
};

/// MAC-A wrong: the network is not who it claims (or K differs).
struct AkaMacFailure {};

/// Outcome of one USIM run.
using AkaOutcome = std::variant<AkaSuccess, AkaSyncFailure, AkaMacFailure>;

/// Runs AKA on the USIM: verifies MAC-A (constant time), checks SQN against `state` and, on
/// success, records it there.
AkaOutcome usim_run_aka(const SubscriberKeys& keys, const Bytes<16>& rand, const Bytes<16>& autn,
                        UsimSqnState& state);

}  // namespace oag::aka
