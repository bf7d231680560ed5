#pragma once
// HTTP Digest AKA (RFC 3310 over RFC 7616/2617 Digest, as 3GPP's GBA Ub uses it, TS 33.220):
// the header grammar (challenge, credentials, Authentication-Info) and the MD5 computations,
// pure. The AKA password is RES (its raw octets); a sync failure answers with `auts` and the
// empty password.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/aka/base64.hpp"
#include "proto/aka/bytes.hpp"

namespace oag::digest {

/// The only algorithm OAG speaks.
inline constexpr std::string_view kAlgorithm = "AKAv1-MD5";
/// The only quality of protection OAG accepts: the body (the CSR) is covered.
inline constexpr std::string_view kQop = "auth-int";

/// Parameters of a Digest header, by lower-case name, unquoted.
using Params = std::map<std::string, std::string, std::less<>>;

/// Parses `Digest name=value, name="quoted", ...` (the scheme case-insensitive, names
/// case-insensitive, a name at most once, quoted-string escapes). nullopt with `why` set (naming
/// the parameter) when malformed.
std::optional<Params> parse(std::string_view header, std::string& why);

/// Parses an Authentication-Info value (the same list without a scheme).
std::optional<Params> parse_info(std::string_view value, std::string& why);

/// The WWW-Authenticate value of an AKA challenge.
std::string challenge(std::string_view realm, std::string_view nonce, std::string_view opaque);

/// base64(RAND ‖ AUTN), the AKA nonce.
std::string aka_nonce(const aka::Bytes<16>& rand, const aka::Bytes<16>& autn);
/// RAND and AUTN out of an AKA nonce (exactly 32 octets), or nullopt.
std::optional<std::pair<aka::Bytes<16>, aka::Bytes<16>>> parse_aka_nonce(std::string_view nonce);

/// Standard base64 with padding (the one definition is proto/aka's).
using aka::base64;
/// Decodes standard base64 (padding required, no whitespace), or nullopt.
using aka::unbase64;

/// What the request-digest covers.
struct Exchange {
  std::string username;  ///< the NAI
  std::string realm;     ///< the challenge's realm
  std::string nonce;     ///< the challenge's nonce
  std::string uri;       ///< digest-uri (the request path)
  std::string nc;        ///< nonce count, 8 hex digits
  std::string cnonce;    ///< the client's nonce
};

/// request-digest for `method` and `body` with qop auth-int: KD(H(A1), nonce:nc:cnonce:qop:H(A2)),
/// A1 = username:realm:password, A2 = method:uri:H(body); lower-case hex.
std::string response(const Exchange& x, aka::ByteView password, std::string_view method,
                     std::string_view body);

/// rspauth of Authentication-Info: the same with an empty method and the response body.
std::string rspauth(const Exchange& x, aka::ByteView password, std::string_view response_body);

/// The Authorization value a client sends (response empty and `auts` set on a sync failure).
std::string authorization(const Exchange& x, std::string_view response, std::string_view opaque,
                          std::string_view auts_b64 = {});

/// The Authentication-Info value of a success.
std::string authentication_info(std::string_view rspauth, const Exchange& x);

}  // namespace oag::digest
