#pragma once
// The JSON messages of the roaming login (DESIGN §7: M2/M3, M4, M5, the NACK's proof, the
// visitor session's Authorization), parsed strictly (every error names its field) and written
// canonically. Pure: no sockets, no store, no clock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/aka/base64.hpp"
#include "proto/aka/bytes.hpp"
#include "proto/login/keys.hpp"
#include "proto/wire/problem.hpp"

namespace oag::login {

/// Why a login was refused: the HA's reasons in the order it checks them, then the FA's own.
enum class Reason {
  bad_request,      ///< the seal does not open (or the request is malformed)
  stale,            ///< `time` more than 300 s from the HA's clock
  replay,           ///< n1 seen before for this NAI
  bad_credentials,  ///< HV wrong, unknown NAI, or no password
  locked,           ///< too many failures: the NAI is locked for a while
  revoked_user,     ///< the subscriber is not active
  bad_csr,          ///< the CSR's key is not the one HV covers
  no_agreement,     ///< (FA or HA) no agreement of kind login with the other side
  rate_limited,     ///< (FA) the agreement's login rate is exhausted
  unavailable,      ///< (FA) the home agent did not answer
};
/// "bad-request", "stale", ... (the wire names).
const char* to_string(Reason r) noexcept;
/// Parses a wire name.
std::optional<Reason> parse_reason(std::string_view s) noexcept;

/// Longest canonical device profile accepted.
inline constexpr std::size_t kMaxDeviceProfile = 2048;
/// Longest CSR (PEM) accepted.
inline constexpr std::size_t kMaxCsr = 4096;
/// Most clock difference the HA accepts, in seconds.
inline constexpr std::int64_t kMaxSkewS = 300;

/// M2 (client → FA, or → HA at home), and M3 (FA → HA) with `request_id`.
struct LoginRequest {
  std::string home_realm;            ///< the user's home realm (which HA to relay to)
  std::string visited_realm;         ///< the FA's realm (the home realm at home)
  Nonce n1{};                        ///< client nonce
  std::int64_t time = 0;             ///< Unix seconds by the client (from M1)
  std::string device_profile;        ///< the device profile, canonical JSON of an object
  std::string csr;                   ///< PKCS#10 PEM
  std::vector<std::uint8_t> sealed;  ///< E ‖ AES-256-GCM(k_seal, {"id","hv"})
  std::string request_id;            ///< M3 only: the FA's idempotency key (UUID)
};
/// Parses M2 (`federation` false) or M3 (`federation` true: request_id required).
std::variant<LoginRequest, wire::Problem> parse_login_request(std::string_view body,
                                                              bool federation);
/// M2 (or M3 when request_id is set) as JSON.
std::string to_json(const LoginRequest& m);
/// The seal's AAD: SHA-256 of the canonical M2 without "sealed" (and without request_id).
aka::Bytes<32> login_aad(const LoginRequest& m);
/// SHA-256 of the canonical device profile (what HV covers).
aka::Bytes<32> device_profile_hash(const LoginRequest& m);
/// The canonical form of a JSON text (keys sorted, no whitespace); nullopt when not JSON.
std::optional<std::string> canonical_json(std::string_view text);

/// What the seal holds.
struct Identity {
  std::string nai;     ///< the user
  aka::Secret<32> hv;  ///< HV
};
/// {"hv","id"} as sealed.
std::string to_json(const Identity& id);
/// Parses the opened seal; nullopt when it is not exactly {"hv","id"} with a valid NAI.
std::optional<Identity> parse_identity(std::string_view plaintext);

/// The HA's acceptance (M4).
struct HomeAck {
  std::string nai;                 ///< the user
  aka::Secret<32> confirm;         ///< HMAC under Ks3 that the FA relays (see keys.hpp)
  aka::Secret<32> ks2;             ///< the FA's session key with the user
  Nonce n2{};                      ///< HA nonce for Ks2
  Nonce n3{};                      ///< HA nonce for Ks3
  std::string certificate;         ///< the user's new certificate, PEM
  std::vector<std::string> chain;  ///< PEM, issuing CA first
  std::string expires;             ///< the certificate's notAfter, RFC 3339 UTC
  std::string ha_session;          ///< the home agent's session with the user (Ks3: renewals)
};

/// A refusal (M4 or M5). `proof` is AES-256-GCM under k_nack of {"hv2"?,"reason"}: present when
/// the HA opened the seal, absent when the FA refused (not provable) or the seal did not open.
struct Nack {
  Reason reason = Reason::bad_request;  ///< why
  std::optional<Nonce> n2;              ///< the HA's nonce, with a proof
  std::vector<std::uint8_t> proof;      ///< sealed proof, or empty
};

/// M4: ACK or NACK.
using HomeAnswer = std::variant<HomeAck, Nack>;
/// M4 as JSON.
std::string to_json(const HomeAnswer& a);
/// Parses M4 (the FA reading the HA's answer); a problem names the bad field.
std::variant<HomeAnswer, wire::Problem> parse_home_answer(std::string_view body);

/// What the FA seals to the user under Ks2 in M5.
struct Ticket {
  std::string nai;                 ///< the user
  aka::Secret<32> confirm;         ///< as in M4
  Nonce n3{};                      ///< for Ks3
  std::string certificate;         ///< PEM
  std::vector<std::string> chain;  ///< PEM, issuing CA first
  std::string session;             ///< the FA's visitor session id
  std::string expires;             ///< RFC 3339 UTC
  std::string ha_session;          ///< the home agent's session (Ks3: renewals through any FA)
};
/// The ticket as JSON (to be sealed).
std::string to_json(const Ticket& t);
/// Parses an opened ticket; nullopt when malformed.
std::optional<Ticket> parse_ticket(std::string_view plaintext);

/// M5's ACK.
struct VisitorAck {
  Nonce n2{};                        ///< for Ks2
  std::vector<std::uint8_t> sealed;  ///< AES-256-GCM(Ks2, ticket)
};
/// M5: ACK or NACK.
using VisitorAnswer = std::variant<VisitorAck, Nack>;
/// M5 as JSON.
std::string to_json(const VisitorAnswer& a);
/// Parses M5 (the client); a problem names the bad field.
std::variant<VisitorAnswer, wire::Problem> parse_visitor_answer(std::string_view body);

/// What the NACK's proof holds.
struct Proof {
  Reason reason = Reason::bad_request;  ///< the HA's reason
  std::optional<aka::Secret<32>> hv2;   ///< present when the password was right
};
/// Seals a proof under Z (the HA).
std::vector<std::uint8_t> seal_proof(const aka::Secret<32>& z, const Proof& p);
/// Opens a proof (the client); nullopt when it does not open or is malformed.
std::optional<Proof> open_proof(const aka::Secret<32>& z, aka::ByteView blob);

/// `Authorization: OAG-Session id=<id>, ts=<unix ms>, mac=<hex>`.
struct SessionAuth {
  std::string id;          ///< session id
  std::int64_t ts_ms = 0;  ///< client time
  aka::Bytes<32> mac{};    ///< request_mac under Ks2 (or Ks3 for a renewal)
};
/// Parses the header value; nullopt when it is not of that form.
std::optional<SessionAuth> parse_session_auth(std::string_view header);
/// The header value.
std::string to_header(const SessionAuth& a);

/// A signed payment order (POST /v1/visitor/charges), signed ES256 by the visitor's
/// certificate key over its canonical form (keys sorted, no whitespace, without "signature").
struct ChargeOrder {
  std::string order_id;        ///< the merchant's id: 1..64 of [A-Za-z0-9._-]
  std::string item;            ///< what is bought, 1..200 bytes of UTF-8
  std::string amount;          ///< decimal, up to 6 places ("2.50")
  std::string currency;        ///< ISO 4217
  std::int64_t time = 0;       ///< Unix seconds by the visitor
  aka::Bytes<64> signature{};  ///< ES256, raw R ‖ S
};
/// Parses a charge request; a problem names the field.
std::variant<ChargeOrder, wire::Problem> parse_charge(std::string_view body);
/// The canonical order that the signature covers.
std::string canonical_order(const ChargeOrder& o);
/// The request body (the order and its signature).
std::string to_json(const ChargeOrder& o);

/// base64url without padding (the one definition is proto/aka's).
using aka::b64url;
/// Decodes base64url without padding.
using aka::unb64url;

}  // namespace oag::login
