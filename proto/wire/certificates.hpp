#pragma once
// The certificate lookup of DESIGN §8: GET /v1/certificates/{nai} (endpoint listener) and
// GET /v1/federation/certificates/{nai} (federation listener) answer the same JSON; the
// endpoint's answer adds the anchor its own gateway vouches for. Pure: no sockets, no store.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "proto/wire/problem.hpp"

namespace oag::wire {

/// Most certificates one answer carries (a subscriber's valid certificates, newest first).
inline constexpr std::size_t kMaxLookupCertificates = 16;

/// One certificate of the subject.
struct CertEntry {
  std::string serial;            ///< lower-case hex
  std::string pem;               ///< the certificate, PEM
  std::int64_t not_after_s = 0;  ///< expiry, Unix s
};

/// {"subject","certificates":[...],"chain":[PEM...],"anchor":PEM}.
struct CertificatesAnswer {
  std::string subject;                  ///< the NAI looked up
  std::vector<CertEntry> certificates;  ///< valid and unrevoked, newest first (at least one)
  std::vector<std::string> chain;       ///< intermediates, PEM, leaf side first
  std::string anchor;                   ///< the CA that speaks for the realm ("" from a peer)
};

/// The JSON of an answer (anchor omitted when empty).
std::string certificates_response(const CertificatesAnswer& a);

/// Parses an answer strictly (every error names its field); `need_anchor` for the endpoint's.
std::variant<CertificatesAnswer, Problem> parse_certificates_response(const std::string& body,
                                                                      bool need_anchor);

/// Decodes %XX escapes of a path segment (a NAI's '@' may come as %40); false when malformed.
bool percent_decode(std::string_view in, std::string& out);
/// Escapes `in` for a path segment or a query value: all but letters, digits, "-._~" and '@'
/// become %XX (a NAI's user part may hold '/', '?', '#', '%', '&' or '=').
std::string percent_encode(std::string_view in);

}  // namespace oag::wire
