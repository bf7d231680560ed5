#include "proto/pki/csr.hpp"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <optional>
#include <stdexcept>

namespace oag::pki {

std::string_view to_string(PkiErrc e) noexcept {
  switch (e) {
    case PkiErrc::malformed:
      return "malformed";
    case PkiErrc::bad_signature:
      return "bad-signature";
    case PkiErrc::unsupported_key:
      return "unsupported-key";
    case PkiErrc::untrusted:
      return "untrusted";
    case PkiErrc::expired:
      return "expired";
    case PkiErrc::wrong_purpose:
      return "wrong-purpose";
  }
  return "?";
}

namespace {

std::string sha256_hex(const unsigned char* data, std::size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data, n, md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

bool is_p256(const EVP_PKEY* k) {
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC) return false;
  char group[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1)
    return false;
  const std::string g(group, len);
  return g == "prime256v1" || g == "P-256";
}

// Decodes the request and its key (P-256), without checking its signature.
std::optional<PkiError> decode(std::string_view text, Csr& out) {
  if (text.size() > 64 * 1024) return PkiError{PkiErrc::malformed, "csr: larger than 64 KiB"};
  BIO* b = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  if (b == nullptr) return PkiError{PkiErrc::malformed, "csr: out of memory"};
  if (text.substr(0, 10) == "-----BEGIN")
    out.req.reset(PEM_read_bio_X509_REQ(b, nullptr, nullptr, nullptr));
  else
    out.req.reset(d2i_X509_REQ_bio(b, nullptr));
  BIO_free(b);
  ERR_clear_error();
  if (!out.req) return PkiError{PkiErrc::malformed, "csr: not a PKCS#10 request"};
  out.public_key.reset(X509_REQ_get_pubkey(out.req.get()));
  if (!out.public_key) return PkiError{PkiErrc::malformed, "csr: no public key"};
  if (!is_p256(out.public_key.get()))
    return PkiError{PkiErrc::unsupported_key, "csr: the key must be EC P-256"};
  return std::nullopt;
}

}  // namespace

std::variant<Csr, PkiError> decode_csr(std::string_view text) {
  Csr out;
  if (auto e = decode(text, out)) return *e;
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(out.req.get()), NID_commonName, cn,
                                sizeof cn) > 0)
    out.common_name = cn;
  // The SubjectPublicKeyInfo as the request holds it: hashed without re-encoding the key (an
  // OpenSSL 3 encoder run costs more than the rest of a login at the home agent).
  unsigned char* der = nullptr;
  const int n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(out.req.get()), &der);
  if (n <= 0) return PkiError{PkiErrc::malformed, "csr: no public key"};
  out.spki_sha256 = sha256_hex(der, static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

bool csr_signature_valid(const Csr& csr) {
  const bool ok = X509_REQ_verify(csr.req.get(), csr.public_key.get()) == 1;
  ERR_clear_error();
  return ok;
}

std::variant<Csr, PkiError> parse_csr(std::string_view text) {
  auto out = decode_csr(text);
  // The request's signature under its own key: the proof that the requester holds the key.
  if (auto* c = std::get_if<Csr>(&out); c != nullptr && !csr_signature_valid(*c))
    return PkiError{PkiErrc::bad_signature, "csr: its signature does not verify"};
  return out;
}

std::string make_csr(EVP_PKEY* key, const std::string& common_name) {
  std::unique_ptr<X509_REQ, CsrFree> req(X509_REQ_new());
  if (!req) throw std::runtime_error("OpenSSL: X509_REQ_new");
  X509_REQ_set_version(req.get(), 0);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  if (X509_REQ_set_pubkey(req.get(), key) != 1 || X509_REQ_sign(req.get(), key, EVP_sha256()) == 0)
    throw std::runtime_error("OpenSSL: signing the CSR");
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(b, req.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(b);
  return pem;
}

}  // namespace oag::pki
