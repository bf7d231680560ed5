#pragma once
// TUAK f1, f1*, f2, f3, f4, f5, f5* and TOPc (3GPP TS 35.231) over Keccak-f[1600].

#include <cstddef>
#include <cstdint>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::aka::tuak {

/// K of 128 or 256 bits.
using Key = SecretVec<32>;

/// Output lengths in bytes and the Keccak iteration count (TS 35.231 §7: a USIM parameter).
struct Params {
  std::size_t mac_len = 8;  ///< MAC-A / MAC-S: 8, 16 or 32
  std::size_t res_len = 8;  ///< RES: 4, 8, 16 or 32
  std::size_t ck_len = 16;  ///< CK: 16 or 32
  std::size_t ik_len = 16;  ///< IK: 16 or 32
  unsigned iterations = 1;  ///< Keccak iterations, at least 1

  /// Throws std::invalid_argument naming the first length that TS 35.231 does not allow.
  void validate() const;
};

/// f2..f5 outputs.
struct F2345 {
  SecretVec<32> res;  ///< f2
  SecretVec<32> ck;   ///< f3
  SecretVec<32> ik;   ///< f4
  Secret<6> ak;       ///< f5
};

/// TOPc from TOP and K.
Secret<32> compute_topc(const Key& k, const Secret<32>& top, unsigned iterations = 1);

/// f1: MAC-A of `p.mac_len` bytes.
std::vector<std::uint8_t> f1(const Key& k, const Secret<32>& topc, const Bytes<16>& rand,
                             const Bytes<6>& sqn, const Bytes<2>& amf, const Params& p = {});

/// f1*: MAC-S of `p.mac_len` bytes.
std::vector<std::uint8_t> f1star(const Key& k, const Secret<32>& topc, const Bytes<16>& rand,
                                 const Bytes<6>& sqn, const Bytes<2>& amf, const Params& p = {});

/// f2, f3, f4, f5 in one permutation.
F2345 f2345(const Key& k, const Secret<32>& topc, const Bytes<16>& rand, const Params& p = {});

/// f5*: AK for resynchronisation.
Secret<6> f5star(const Key& k, const Secret<32>& topc, const Bytes<16>& rand,
                 unsigned iterations = 1);

}  // namespace oag::aka::tuak
