#pragma once
// Milenage f1, f1*, f2, f3, f4, f5, f5* (3GPP TS 35.206) with a 128-bit K.

#include <cstdint>

#include "proto/aka/bytes.hpp"

namespace oag::aka::milenage {

/// Which outputs to compute: each group costs AES blocks, a quintet needs five, a triplet four.
enum Outputs : unsigned {
  kF1 = 1u << 0,      ///< MAC-A (f1)
  kF2345 = 1u << 1,   ///< RES, CK, IK, AK (f2..f5)
  kResync = 1u << 2,  ///< MAC-S (f1*) and AK* (f5*)
  kAll = kF1 | kF2345 | kResync,
};

/// Everything Milenage can produce for one RAND; groups not asked for stay zero.
struct Result {
  Bytes<8> mac_a{};   ///< f1
  Bytes<8> mac_s{};   ///< f1*
  Secret<8> res;      ///< f2
  Secret<16> ck;      ///< f3
  Secret<16> ik;      ///< f4
  Secret<6> ak;       ///< f5
  Secret<6> ak_star;  ///< f5*
};

/// OPc = OP ⊕ E_K(OP).
Secret<16> compute_opc(const Secret<16>& k, const Secret<16>& op);

/// Runs the functions named by `which` for K, OPc, RAND, SQN and AMF.
Result compute(const Secret<16>& k, const Secret<16>& opc, const Bytes<16>& rand,
               const Bytes<6>& sqn, const Bytes<2>& amf, unsigned which = kAll);

}  // namespace oag::aka::milenage
