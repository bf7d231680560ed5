#pragma once
// Base64 (RFC 4648 §4, with padding: Digest nonces, CMS bodies) and base64url (§5, without
// padding: JOSE, the login messages), decoded strictly: one encoding per byte string.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::aka {

/// Standard base64 with padding.
std::string base64(ByteView data);
/// Decodes standard base64 (padding required, no whitespace), or nullopt.
std::optional<std::vector<std::uint8_t>> unbase64(std::string_view text);
/// base64url without padding.
std::string b64url(ByteView data);
/// Decodes base64url without padding; nullopt on any other character or a bad length.
std::optional<std::vector<std::uint8_t>> unb64url(std::string_view text);

}  // namespace oag::aka
