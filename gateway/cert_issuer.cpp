#include "gateway/cert_issuer.hpp"

#include <stdexcept>

#include "gateway/services.hpp"
#include "proto/ident/ident.hpp"

namespace oag::gateway {

CertIssuer::CertIssuer(const std::string& cert_file, const std::string& key_file) {
  ca_pem_ = read_text_file(cert_file);
  ca_ = pki::cert_from_pem(ca_pem_);
  if (!ca_) throw std::runtime_error(cert_file + ": not a PEM certificate");
  key_ = pki::key_from_pem(read_text_file(key_file));
  if (!key_) throw std::runtime_error(key_file + ": not a PEM private key");
  if (X509_check_private_key(ca_.get(), key_.get()) != 1)
    throw std::runtime_error(key_file + ": does not match " + cert_file);
  ca_pem_ = pki::to_pem(ca_.get());  // the certificate only, whatever else the file held
}

IssuedCert CertIssuer::issue(const std::string& nai, EVP_PKEY* public_key, std::int64_t lifetime_s,
                             std::int64_t now_s) const {
  pki::Spec spec;
  spec.common_name = nai;
  spec.organization = std::string(ident::realm_of(nai));
  spec.uris = {"sip:" + nai};
  spec.client_auth = true;
  spec.lifetime_s = lifetime_s;
  spec.backdate_s = 60;
  auto c = pki::issue_encoded(spec, public_key, const_cast<X509*>(ca_.get()), key_.get(), now_s);
  IssuedCert out;
  out.pem = std::move(c.pem);
  out.chain_pem = ca_pem_;
  out.serial = std::move(c.serial);
  out.not_after_ms = c.not_after_ms;
  return out;
}

}  // namespace oag::gateway
