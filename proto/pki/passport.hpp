#pragma once
// PASSporT (RFC 8225) as the Identity header of RFC 8224 carries it: a compact JWS with header
// {"alg":"ES256","typ":"passport","x5u":URL} and claims `iat`, `orig` and `dest` (URIs here,
// telephone numbers accepted when decoding), signed ES256 with the raw R ‖ S signature. JSON is
// written in the canonical form of RFC 8225 §9 (keys in lexicographic order, no whitespace).

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/aka/bytes.hpp"
#include "proto/pki/csr.hpp"

namespace oag::pki {

/// The window a verifier allows `iat` around its own clock (DESIGN §8: ±60 s).
inline constexpr std::int64_t kPassportWindowS = 60;

/// What a PASSporT says.
struct PassportClaims {
  std::string x5u;                     ///< where its certificate is (header)
  std::int64_t iat = 0;                ///< issued at, Unix s
  std::string orig_uri;                ///< orig.uri (or "" when orig.tn)
  std::string orig_tn;                 ///< orig.tn (SHAKEN; decoding only)
  std::vector<std::string> dest_uris;  ///< dest.uri
  std::vector<std::string> dest_tns;   ///< dest.tn (decoding only)
  std::string ppt;                     ///< header ppt, when an extension is named
};

/// A decoded PASSporT: the claims, and what its signature covers.
struct Passport {
  PassportClaims claims;       ///< header and payload
  std::string signing_input;   ///< base64url(header) "." base64url(payload)
  aka::Bytes<64> signature{};  ///< R ‖ S
};

/// The compact JWS of `c` (orig_uri and dest_uris) signed with `key` (P-256).
std::string passport_sign(const PassportClaims& c, EVP_PKEY* key);

/// Decodes a compact JWS strictly: alg ES256, typ passport (when present), x5u present, iat an
/// integer, orig and dest objects; the signature 64 bytes. Does not check the signature.
std::variant<Passport, PkiError> passport_decode(std::string_view jws);

/// Checks `p`'s signature with `key` and its `iat` within ±window_s of `now_s`.
std::optional<PkiError> passport_verify(const Passport& p, EVP_PKEY* key, std::int64_t now_s,
                                        std::int64_t window_s = kPassportWindowS);

}  // namespace oag::pki
