#pragma once
// The RFC 8224 Identity header: `<PASSporT>;info=<x5u>;alg=ES256[;ppt=...]`. Only the header's
// syntax lives here; the PASSporT itself is proto/pki's.

#include <optional>
#include <string>
#include <string_view>

namespace oag::sip {

/// A parsed Identity header value.
struct IdentityHeader {
  std::string passport;  ///< the compact JWS
  std::string info;      ///< the info parameter without its <>: the certificate's URL
  std::string alg;       ///< alg parameter ("" when absent; ES256 is the default)
  std::string ppt;       ///< ppt parameter ("" when absent)
};

/// `passport;info=<x5u>;alg=ES256`.
std::string identity_value(std::string_view passport, std::string_view x5u);

/// Parses an Identity header value; nullopt (with `why`) when the JWS or the info parameter is
/// missing or a parameter is malformed.
std::optional<IdentityHeader> parse_identity(std::string_view value, std::string* why = nullptr);

}  // namespace oag::sip
