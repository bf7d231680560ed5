#pragma once
// The daemon's issuing CA (an intermediate under the endpoint CA; the root key stays with
// oagctl): endpoint certificates of DESIGN §7's profile for keys whose possession a CSR proved.

#include <cstdint>
#include <string>

#include "proto/pki/x509.hpp"

namespace oag::gateway {

/// A certificate just issued, with what the client needs to present it.
struct IssuedCert {
  std::string pem;        ///< the leaf as PEM
  std::string chain_pem;  ///< the issuing CA as PEM (what sits between the leaf and the root)
  std::string serial;     ///< lower-case hex
  std::int64_t not_after_ms = 0;  ///< expiry
};

/// Issues endpoint certificates with the issuing CA's key.
class CertIssuer {
 public:
  /// Loads the CA certificate and key files; throws std::runtime_error naming the file.
  CertIssuer(const std::string& cert_file, const std::string& key_file);
  /// A leaf for `nai` and `public_key`: random 128-bit serial, CN and SAN URI sip:NAI, EKU
  /// clientAuth, KU digitalSignature, valid from one minute before `now_s` for `lifetime_s`.
  IssuedCert issue(const std::string& nai, EVP_PKEY* public_key, std::int64_t lifetime_s,
                   std::int64_t now_s) const;
  /// The issuing CA certificate.
  const X509* ca() const { return ca_.get(); }
  /// The issuing CA certificate as PEM (the chain between our leaves and the endpoint CA).
  const std::string& ca_pem() const { return ca_pem_; }

 private:
  pki::Cert ca_;
  pki::Key key_;
  std::string ca_pem_;
  std::string organization_;
};

}  // namespace oag::gateway
