#pragma once
// The `oag1` carriers (DESIGN §5): authentication values inside the From-tag of the INVITE, the
// To-tag of the 200 OK and the Via branch (or the OAG-Auth header) of the ACK. Pure encoding and
// strict decoding; no SIP parsing here.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/aka/bytes.hpp"
#include "proto/ident/ident.hpp"

namespace oag::sip {

/// Which vector a carrier belongs to (the one definition is proto/ident's).
using Kind = ident::Kind;
using ident::to_string;

/// The branch prefix every RFC 3261 branch starts with.
inline constexpr std::string_view kMagicCookie = "z9hG4bK";

/// The OAG-Auth value of an ACK whose sender refuses the callee's answer (it ends the call with
/// its own BYE): explicit, so that a rewritten branch is never taken for a refusal.
inline constexpr std::string_view kRefused = "oag1.refused";

/// The challenge the caller sends to the callee: RAND_B [AUTN_B].
struct InviteCarrier {
  Kind kind = Kind::sim;               ///< sim or aka
  aka::Bytes<16> rand{};               ///< RAND_B
  std::optional<aka::Bytes<16>> autn;  ///< AUTN_B (aka only)
  std::string nonce;                   ///< 8 hex characters that keep the tag unique
};

/// The callee's answer: its response to RAND_B and its own challenge RAND_A [AUTN_A].
struct AnswerCarrier {
  Kind kind = Kind::sim;               ///< sim or aka
  std::vector<std::uint8_t> res;       ///< SRES_B (4 bytes) or RES_B (4..16 bytes)
  aka::Bytes<16> rand{};               ///< RAND_A
  std::optional<aka::Bytes<16>> autn;  ///< AUTN_A (aka only)
  std::string nonce;                   ///< 8 hex characters
};

/// The caller's response to RAND_A.
struct AckCarrier {
  std::vector<std::uint8_t> res;  ///< SRES_A or RES_A
  std::string nonce;              ///< 8 hex characters
};

/// From-tag `oag1.<k>.<RAND>[<AUTN>].<nonce>`.
std::string encode(const InviteCarrier& c);
/// To-tag `oag1.<k>.<RES>.<RAND>[<AUTN>].<nonce>`.
std::string encode(const AnswerCarrier& c);
/// `oag1.<RES>.<nonce>`: the OAG-Auth header value; the Via branch is kMagicCookie + this.
std::string encode(const AckCarrier& c);

/// Decodes a From-tag; nullopt (with `why`) when it is not a valid oag1 INVITE carrier.
std::optional<InviteCarrier> decode_invite(std::string_view tag, std::string* why = nullptr);
/// Decodes a To-tag; nullopt (with `why`) when it is not a valid oag1 answer carrier.
std::optional<AnswerCarrier> decode_answer(std::string_view tag, std::string* why = nullptr);
/// Decodes an ACK carrier from a branch (with or without the magic cookie) or an OAG-Auth value.
std::optional<AckCarrier> decode_ack(std::string_view value, std::string* why = nullptr);

/// True when `tag` claims to be an oag1 carrier (starts with "oag1.").
bool is_oag1(std::string_view tag) noexcept;

/// A fresh 8-hex-character nonce from the OpenSSL DRBG.
std::string new_nonce();

}  // namespace oag::sip
