#pragma once
// PKCS#10 certificate requests: a device makes its key and asks for a certificate; the request's
// own signature is the proof that it holds the private key (DESIGN §7 M2, §9).

#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "proto/pki/x509.hpp"

namespace oag::pki {

/// Why a CSR, a chain or a signature was refused: a code to branch on, and a detail for people.
enum class PkiErrc {
  malformed,        ///< not parseable as what it should be
  bad_signature,    ///< the signature does not verify
  unsupported_key,  ///< not an EC P-256 key
  untrusted,        ///< does not chain to the anchor
  expired,          ///< outside its validity at the time checked
  wrong_purpose,    ///< lacks the key usage or extended key usage asked for
};

/// "malformed", "bad-signature", ...
std::string_view to_string(PkiErrc e) noexcept;

/// A refusal.
struct PkiError {
  PkiErrc code = PkiErrc::malformed;  ///< what went wrong
  std::string detail;                 ///< for logs and problem details; no key material
};

/// Frees an X509_REQ.
struct CsrFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};

/// A parsed CSR whose signature verified under the key it carries.
struct Csr {
  std::unique_ptr<X509_REQ, CsrFree> req;  ///< the request
  Key public_key;                          ///< its subject public key (EC P-256)
  std::string common_name;                 ///< subject CN, may be empty
  std::string spki_sha256;                 ///< hex SHA-256 of its SubjectPublicKeyInfo
};

/// Parses a PEM (or DER, if `pem` does not start with "-----BEGIN") PKCS#10 request, requires an
/// EC P-256 key and checks the request's signature with it (proof of possession).
std::variant<Csr, PkiError> parse_csr(std::string_view pem);

/// Decodes a request and its EC P-256 key without checking its signature (a login's HV covers
/// the key, and the home agent checks HV before the signature).
std::variant<Csr, PkiError> decode_csr(std::string_view pem);
/// True when the request's signature verifies under its own key (proof of possession).
bool csr_signature_valid(const Csr& csr);

/// Makes a CSR for `key` (signed with it, SHA-256) with subject CN `common_name`, as PEM.
std::string make_csr(EVP_PKEY* key, const std::string& common_name);

}  // namespace oag::pki
