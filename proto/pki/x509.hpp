#pragma once
// X.509 for the operator's PKI with OpenSSL, pure (no files, no clocks but those passed in):
// P-256 keys, issuing certificates (CAs, listeners, endpoint leaves), reading what a
// certificate says (serial, NAI, SPKI pin), PEM and DER. Used by oagctl and by oagd.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oag::pki {

/// Frees an EVP_PKEY.
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
/// Frees an X509.
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
/// An owned key (private, or public only).
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
/// An owned certificate.
using Cert = std::unique_ptr<X509, CertFree>;

/// What a certificate says. Validity runs from `now - backdate_s` for `lifetime_s`.
struct Spec {
  std::string common_name;                ///< subject CN
  std::string organization;               ///< subject O (the operator realm)
  bool ca = false;                        ///< basicConstraints CA:TRUE, keyCertSign, cRLSign
  int path_len = 0;                       ///< CA only: how many CAs may follow below it
  std::int64_t lifetime_s = 365 * 86400;  ///< validity length
  std::int64_t backdate_s = 300;          ///< notBefore this far before now (clock skew)
  std::vector<std::string> dns;           ///< SAN DNS names
  std::vector<std::string> ips;           ///< SAN IP addresses
  std::vector<std::string> uris;          ///< SAN URIs (sip:NAI for endpoints)
  bool server_auth = false;               ///< extendedKeyUsage serverAuth
  bool client_auth = false;               ///< extendedKeyUsage clientAuth
};

/// A fresh EC P-256 key pair.
Key generate_key();

/// Issues a certificate for `subject_key` (its public half is used), signed by
/// `issuer`/`issuer_key` (self-signed when issuer is null), valid from `now_s - backdate_s`,
/// with a random positive 128-bit serial. Throws std::runtime_error when OpenSSL fails.
Cert issue(const Spec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
           std::int64_t now_s);

/// A certificate as issued for handing out: its PEM and what a record needs.
struct EncodedCert {
  std::string pem;                ///< the certificate
  std::string serial;             ///< lower-case hex
  std::int64_t not_after_ms = 0;  ///< expiry
};

/// As issue(), for a certificate that is only handed out and recorded (the daemon's issuing
/// path): ~5x cheaper for a P-256 subject key under OpenSSL 3.0, same bytes.
EncodedCert issue_encoded(const Spec& spec, EVP_PKEY* subject_key, X509* issuer,
                          EVP_PKEY* issuer_key, std::int64_t now_s);

/// Lower-case hex serial number, without leading zeros.
std::string serial_hex(const X509* cert);
/// notAfter as Unix ms.
std::int64_t not_after_ms(const X509* cert);
/// notBefore as Unix ms.
std::int64_t not_before_ms(const X509* cert);
/// The NAI a client certificate names: its SAN URI `sip:NAI`, else its subject CN; empty if none.
std::string subject_nai(const X509* cert);
/// Lower-case hex SHA-256 of a public key's DER SubjectPublicKeyInfo (what an SPKI pin names).
std::string spki_sha256(const EVP_PKEY* key);
/// The same for a certificate's key.
std::string spki_sha256(const X509* cert);

/// A certificate as PEM.
std::string to_pem(const X509* cert);
/// A private key as unencrypted PKCS#8 PEM (the caller decides where it may go).
std::string private_key_pem(const EVP_PKEY* key);
/// A certificate as DER.
std::string to_der(const X509* cert);
/// The first certificate of a PEM text, or null.
Cert cert_from_pem(std::string_view pem);
/// Every certificate of a PEM text, in order (empty when none parses).
std::vector<Cert> certs_from_pem(std::string_view pem);
/// A DER certificate, or null.
Cert cert_from_der(std::string_view der);
/// A PEM private key, or null.
Key key_from_pem(std::string_view pem);

}  // namespace oag::pki
