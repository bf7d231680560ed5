#include "proto/pki/verify.hpp"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace oag::pki {

std::optional<PkiError> verify_chain(const X509* leaf,
                                     const std::vector<const X509*>& intermediates,
                                     const std::vector<const X509*>& anchors, Purpose purpose,
                                     std::int64_t at_s) {
  if (leaf == nullptr) return PkiError{PkiErrc::malformed, "certificate: none"};
  if (anchors.empty()) return PkiError{PkiErrc::untrusted, "certificate: no trust anchor"};
  X509_STORE* store = X509_STORE_new();
  for (const X509* a : anchors) X509_STORE_add_cert(store, const_cast<X509*>(a));
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (const X509* c : intermediates) sk_X509_push(untrusted, const_cast<X509*>(c));
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  std::optional<PkiError> out;
  if (ctx == nullptr || X509_STORE_CTX_init(ctx, store, const_cast<X509*>(leaf), untrusted) != 1) {
    out = PkiError{PkiErrc::malformed, "certificate: cannot set up verification"};
  } else {
    X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(p, static_cast<time_t>(at_s));
    if (purpose != Purpose::any)
      X509_STORE_CTX_set_purpose(
          ctx, purpose == Purpose::tls_server ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
    if (X509_verify_cert(ctx) != 1) {
      const int err = X509_STORE_CTX_get_error(ctx);
      const std::string why = X509_verify_cert_error_string(err);
      PkiErrc code = PkiErrc::untrusted;
      if (err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID)
        code = PkiErrc::expired;
      else if (err == X509_V_ERR_INVALID_PURPOSE)
        code = PkiErrc::wrong_purpose;
      else if (err == X509_V_ERR_CERT_SIGNATURE_FAILURE)
        code = PkiErrc::bad_signature;
      out = PkiError{code, "certificate: " + why};
    }
  }
  ERR_clear_error();
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);  // the certificates are the caller's
  X509_STORE_free(store);
  return out;
}

}  // namespace oag::pki
