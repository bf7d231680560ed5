#pragma once
// S/MIME bodies for SIP (RFC 3261 §23, RFC 8551): a MIME entity encrypted to the peer's
// certificate (CMS EnvelopedData; ECDH key agreement for P-256 keys, AES-256-CBC), then signed
// (CMS SignedData with the signer's certificate and chain) as `multipart/signed`; or signed
// only (the ACK's message/sipfrag). Every line is CRLF-terminated, so that binary and canonical
// text signing agree and `openssl cms` verifies what we sign and we verify what it signs.
// Opening checks the signature with the certificate inside; whether that certificate is
// acceptable (its chain, its subject) is the caller's decision.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/pki/csr.hpp"
#include "proto/pki/x509.hpp"

namespace oag::pki {

/// A body as SIP carries it: the Content-Type header value and the body.
struct SmimeBody {
  std::string content_type;  ///< multipart/signed;protocol=...;micalg=sha-256;boundary=...
  std::string body;          ///< the multipart body
};

/// The signer: its key, its certificate and what lies between it and the anchor.
struct Signer {
  const X509* cert = nullptr;      ///< the signer's certificate
  EVP_PKEY* key = nullptr;         ///< its private key
  std::vector<const X509*> chain;  ///< intermediates to include
};

/// `content` of MIME type `type`, encrypted to `recipient`, then signed by `signer`.
SmimeBody smime_seal(std::string_view type, std::string_view content, const X509* recipient,
                     const Signer& signer);
/// `content` of MIME type `type`, signed by `signer` (not encrypted).
SmimeBody smime_sign(std::string_view type, std::string_view content, const Signer& signer);

/// What an opened body held.
struct SmimeOpened {
  Cert signer;              ///< the certificate whose key made the signature
  std::vector<Cert> certs;  ///< every certificate the signature carried (chain candidates)
  bool encrypted = false;   ///< the signed entity was EnvelopedData, now decrypted
  std::string type;         ///< the innermost entity's Content-Type
  std::string content;      ///< its content
};

/// True when the media type of Content-Type value `type` is `want` (case-insensitive; the
/// parameters after it are ignored): "application/sdp; charset=x" is "application/sdp".
bool media_type_is(std::string_view type, std::string_view want);

/// Verifies a multipart/signed body (exactly one signer, its certificate inside) and, when the
/// signed entity is EnvelopedData, decrypts it with `recipient_key` (`recipient_cert` picks the
/// recipient; a body encrypted to someone else is refused). A null key refuses enveloped data.
std::variant<SmimeOpened, PkiError> smime_open(std::string_view content_type, std::string_view body,
                                               const X509* recipient_cert, EVP_PKEY* recipient_key);

}  // namespace oag::pki
