#pragma once
// GSM conversion functions of TS 33.102 §6.8.1.2 and GSM-Milenage (TS 55.205).

#include "proto/aka/bytes.hpp"

namespace oag::aka {

/// c2: SRES = XOR of the 32-bit words of RES zero-padded to 128 bits (RES of 4..16 bytes;
/// throws std::invalid_argument otherwise).
Secret<4> c2(ByteView res);

/// c3: Kc = CK[0..7] ⊕ CK[8..15] ⊕ IK[0..7] ⊕ IK[8..15].
Secret<8> c3(const Secret<16>& ck, const Secret<16>& ik);

/// A GSM triplet's secrets.
struct GsmResult {
  Secret<4> sres;  ///< signed response
  Secret<8> kc;    ///< cipher key
};

/// GSM-Milenage (TS 55.205): SRES and Kc from K, OPc and RAND (three AES blocks after TEMP).
GsmResult gsm_milenage(const Secret<16>& k, const Secret<16>& opc, const Bytes<16>& rand);

}  // namespace oag::aka
