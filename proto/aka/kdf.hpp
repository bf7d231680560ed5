#pragma once
// Key derivations of TS 33.220 Annex B.2 as used by AKA' (RFC 5448 / TS 33.402 Annex A.2) and
// 5G AKA (TS 33.501 Annex A).

#include <initializer_list>
#include <span>
#include <string_view>

#include "proto/aka/bytes.hpp"

namespace oag::aka {

/// KDF(key, FC, P0, P1, ...) = HMAC-SHA-256(key, FC ‖ P0 ‖ L0 ‖ P1 ‖ L1 ...), Li 16-bit lengths.
Secret<32> kdf(ByteView key, std::uint8_t fc, std::initializer_list<ByteView> params);

/// HKDF-SHA256 (RFC 5869) modes.
enum class HkdfMode { extract_and_expand, extract_only, expand_only };

/// HKDF-SHA256 into `out`: extract-and-expand (salt, ikm, info), extract only (salt, ikm; `out`
/// is 32 bytes, the PRK), or expand only (`ikm` is the PRK, salt ignored). Throws
/// std::runtime_error when OpenSSL fails. The one HKDF of the project (session keys, §7 login).
void hkdf(HkdfMode mode, ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out);

/// CK' and IK' for EAP-AKA'.
struct CkIkPrime {
  Secret<16> ck_prime;  ///< CK'
  Secret<16> ik_prime;  ///< IK'
};

/// CK' ‖ IK' = KDF(CK ‖ IK, 0x20, access network name, SQN ⊕ AK).
CkIkPrime ck_ik_prime(const Secret<16>& ck, const Secret<16>& ik, std::string_view network_name,
                      const Bytes<6>& sqn_xor_ak);

/// KAUSF = KDF(CK ‖ IK, 0x6A, serving network name, SQN ⊕ AK).
Secret<32> kausf(const Secret<16>& ck, const Secret<16>& ik, std::string_view snn,
                 const Bytes<6>& sqn_xor_ak);

/// RES* / XRES* = the last 128 bits of KDF(CK ‖ IK, 0x6B, SNN, RAND, RES).
Secret<16> res_star(const Secret<16>& ck, const Secret<16>& ik, std::string_view snn,
                    const Bytes<16>& rand, ByteView res);

/// HXRES* = the last 128 bits of SHA-256(RAND ‖ XRES*).
Bytes<16> hxres_star(const Bytes<16>& rand, const Secret<16>& xres_star);

/// KSEAF = KDF(KAUSF, 0x6C, SNN).
Secret<32> kseaf(const Secret<32>& kausf, std::string_view snn);

}  // namespace oag::aka
