#pragma once
// The session key both endpoints hold after mutual authentication, and the SRTP master keys
// exported from it (DESIGN §5):
//   SSK = HKDF-SHA256(ikm = key_B ‖ key_A, salt = SHA-256(Call-ID),
//                     info = "oag1" ‖ len‖NAI_A ‖ len‖NAI_B ‖ RAND_B ‖ RAND_A)
// with key = Kc (sim) or CK‖IK (aka); each NAI carries a 2-byte big-endian length so that no two
// different pairs of names give the same info. SRTP master key (16) and salt (14) per direction:
// HKDF-Expand(SSK, "oag1 srtp a>b" | "oag1 srtp b>a", 30).

#include <string>
#include <string_view>

#include "proto/aka/bytes.hpp"

namespace oag::session {

/// What both sides put in.
struct SessionInput {
  std::string call_id;      ///< Call-ID of the INVITE
  std::string nai_a;        ///< caller
  std::string nai_b;        ///< callee
  aka::Bytes<16> rand_b{};  ///< challenge to the callee
  aka::Bytes<16> rand_a{};  ///< challenge to the caller
  aka::ByteView key_b;      ///< Kc_B or CK_B‖IK_B
  aka::ByteView key_a;      ///< Kc_A or CK_A‖IK_A
};

/// SRTP master key and salt of one direction (RFC 3711, AES-128).
struct SrtpKeys {
  aka::Secret<16> master_key;   ///< master key
  aka::Secret<14> master_salt;  ///< master salt
};

/// The session key and what is exported from it.
struct SessionKeys {
  aka::Secret<32> ssk;  ///< SSK
  SrtpKeys a_to_b;      ///< media the caller sends
  SrtpKeys b_to_a;      ///< media the callee sends
  /// 16 hex digits that both sides can print and compare: SHA-256("oag1 fingerprint" ‖ SSK).
  std::string fingerprint() const;
};

/// Derives the session keys; throws std::runtime_error if OpenSSL's HKDF fails.
SessionKeys derive(const SessionInput& in);

}  // namespace oag::session
