#pragma once
// EC P-256 keys and X.509 certificates for the operator's CAs, its listeners and endpoints.

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

namespace oag::tools::pki {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
/// An owned private key.
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
/// An owned certificate.
using Cert = std::unique_ptr<X509, CertFree>;

/// What a certificate says.
struct Spec {
  std::string common_name;        ///< subject CN
  std::string organization;       ///< subject O (the operator realm)
  bool ca = false;                ///< basicConstraints CA:TRUE, keyCertSign
  int days = 365;                 ///< validity from now
  std::vector<std::string> dns;   ///< SAN DNS names
  std::vector<std::string> ips;   ///< SAN IP addresses
  std::vector<std::string> uris;  ///< SAN URIs (sip:NAI for endpoints)
  bool server_auth = false;       ///< extendedKeyUsage serverAuth
  bool client_auth = false;       ///< extendedKeyUsage clientAuth
};

/// A fresh EC P-256 key.
Key generate_key();
/// Issues a certificate for `subject_key`, signed by `issuer`/`issuer_key` (self-signed when
/// issuer is null), with a random 128-bit serial.
Cert issue(const Spec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key);
/// Writes a key as PKCS#8 PEM with mode 0600; refuses an existing file unless `overwrite`.
void write_key(const std::string& path, EVP_PKEY* key, bool overwrite);
/// Writes a certificate as PEM with mode 0644; refuses an existing file unless `overwrite`.
void write_cert(const std::string& path, X509* cert, bool overwrite);
/// Reads a PEM key; throws std::runtime_error naming the file.
Key load_key(const std::string& path);
/// Reads a PEM certificate; throws std::runtime_error naming the file.
Cert load_cert(const std::string& path);
/// Lower-case hex serial number.
std::string serial_hex(X509* cert);
/// notAfter as Unix ms.
long long not_after_ms(X509* cert);

}  // namespace oag::tools::pki
