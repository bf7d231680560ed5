#pragma once
// One definition of each identity rule (DESIGN §2 proto/ident): NAI, realm, IMSI, the IND slot
// range and the vector kinds. Wire parsing, the stores, oagd's and oagctl's configuration, the
// client and the SIP carriers all call these, so that no two layers can disagree on a name.

#include <optional>
#include <string>
#include <string_view>

namespace oag::ident {

/// A vector kind: GSM triplet (`sim`) or AKA quintet (`aka`).
enum class Kind { sim, aka };

/// "sim" or "aka".
const char* to_string(Kind k) noexcept;

/// Parses exactly "sim" or "aka".
std::optional<Kind> parse_kind(std::string_view s) noexcept;

/// A realm: a DNS name of 1..253 bytes, labels of 1..63 letters, digits and '-' (not at either
/// end of a label), at least two labels, compared in lower case.
bool valid_realm(std::string_view realm) noexcept;

/// A NAI as OAG accepts it: user@realm with exactly one '@', a user part of printable ASCII
/// without space, '"', '\\', ',', ';', '<', '>', and a realm that passes valid_realm; at most 253
/// bytes in all.
bool valid_nai(std::string_view nai) noexcept;

/// The realm of a NAI (after its '@'), or empty when there is none.
std::string_view realm_of(std::string_view nai) noexcept;

/// An IMSI: 6 to 15 decimal digits (ITU-T E.212).
bool valid_imsi(std::string_view imsi) noexcept;

/// The highest IND slot an instance may take (`store.ind_slot`): 2^10 - 1 for the longest IND
/// (aka::kMaxIndLen, static_assert in proto/aka/sqn.cpp); the slot must also fit the
/// subscriber's IND length, which the store checks per subscriber.
inline constexpr unsigned kMaxIndSlot = 1023;

/// A request id (the idempotency key of a federation request): 1..64 hex digits and '-' (a UUID
/// in practice).
bool valid_request_id(std::string_view id) noexcept;

/// Lower-cases ASCII letters (NAIs and realms compare case-insensitively in their realm).
std::string lower(std::string_view s);

}  // namespace oag::ident
