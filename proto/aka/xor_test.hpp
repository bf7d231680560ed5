#pragma once
// The 3GPP test algorithm XOR (TS 34.108 §8.1.2), used by test USIMs. Not for live subscribers:
// anyone who sees one RAND and RES learns K.

#include "proto/aka/bytes.hpp"

namespace oag::aka::xor_test {

/// All outputs of the XOR algorithm for one RAND (RES is the full 128-bit XDOUT).
struct Result {
  Bytes<8> mac_a{};  ///< XDOUT[0..63] ⊕ (SQN ‖ AMF)
  Bytes<8> mac_s{};  ///< XDOUT[0..63] ⊕ (SQN ‖ AMF), fed with SQN_MS and AMF* = 0000
  Secret<16> res;    ///< XDOUT
  Secret<16> ck;     ///< XDOUT rotated left by 8 bits
  Secret<16> ik;     ///< XDOUT rotated left by 16 bits
  Secret<6> ak;      ///< XDOUT[24..71]; f5* is the same function
};

/// Runs f1..f5 with `sqn`/`amf` feeding MAC-A; MAC-S uses the same `sqn` with AMF 0000.
Result compute(const Secret<16>& k, const Bytes<16>& rand, const Bytes<6>& sqn,
               const Bytes<2>& amf);

}  // namespace oag::aka::xor_test
