#include "proto/pki/x509.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <stdexcept>

#include "proto/pki/bio.hpp"

namespace oag::pki {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("OpenSSL: " + what);
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::int64_t asn1_ms(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

std::string hex_of(const unsigned char* p, std::size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}

// The subject key into a certificate that will only be encoded. X509_set_pubkey costs ~260 us in
// OpenSSL 3.0 (it encodes and decodes the key through the provider encoders); for a P-256 key the
// SubjectPublicKeyInfo is the curve's OIDs and the encoded point, set directly in ~1 us. The
// object then has no decoded key (X509_get0_pubkey is null), so only issue_encoded uses this.
void set_public_key(X509* cert, EVP_PKEY* key) {
  unsigned char point[65];
  std::size_t len = 0;
  char group[32] = {};
  std::size_t glen = 0;
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) ==
          1 &&
      (std::string_view(group, glen) == "prime256v1" || std::string_view(group, glen) == "P-256") &&
      EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point,
                                      &len) == 1 &&
      len == sizeof point) {
    auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(point, len));
    if (copy != nullptr &&
        X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(cert), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                               V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), copy,
                               static_cast<int>(len)) == 1)
      return;
    OPENSSL_free(copy);
  }
  if (X509_set_pubkey(cert, key) != 1) fail("public key");
}

}  // namespace

Key generate_key() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) fail("EC P-256 key generation");
  return k;
}

namespace {

Cert build(const Spec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
           std::int64_t now_s, bool encoded_only) {
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) fail("RAND_bytes");
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and 128 bits long, never shortened
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  const time_t nb = static_cast<time_t>(now_s - spec.backdate_s);
  const time_t na = static_cast<time_t>(now_s - spec.backdate_s + spec.lifetime_s);
  if (!X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, const_cast<time_t*>(&nb)) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, const_cast<time_t*>(&na)))
    fail("validity");
  if (encoded_only)
    set_public_key(cert.get(), subject_key);
  else if (X509_set_pubkey(cert.get(), subject_key) != 1)
    fail("public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!spec.organization.empty())
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.organization.c_str()),
                               -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);

  add_ext(cert.get(), issuer, NID_subject_key_identifier, "hash");
  if (issuer) add_ext(cert.get(), issuer, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add_ext(cert.get(), issuer, NID_basic_constraints,
            "critical,CA:TRUE,pathlen:" + std::to_string(spec.path_len));
    add_ext(cert.get(), issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), issuer, NID_key_usage, "critical,digitalSignature");
    std::string eku;
    if (spec.server_auth) eku += "serverAuth";
    if (spec.client_auth) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
    if (!eku.empty()) add_ext(cert.get(), issuer, NID_ext_key_usage, eku);
  }
  std::string san;
  for (const auto& d : spec.dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : spec.ips) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  for (const auto& u : spec.uris) san += (san.empty() ? "" : ",") + std::string("URI:") + u;
  if (!san.empty()) add_ext(cert.get(), issuer, NID_subject_alt_name, san);

  // SHA-256 fetched once (an implicit fetch per signature costs a provider lookup under a lock).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (X509_sign(cert.get(), issuer_key ? issuer_key : subject_key, sha256) == 0) fail("signing");
  return cert;
}

}  // namespace

Cert issue(const Spec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key,
           std::int64_t now_s) {
  return build(spec, subject_key, issuer, issuer_key, now_s, false);
}

EncodedCert issue_encoded(const Spec& spec, EVP_PKEY* subject_key, X509* issuer,
                          EVP_PKEY* issuer_key, std::int64_t now_s) {
  const Cert c = build(spec, subject_key, issuer, issuer_key, now_s, true);
  return {to_pem(c.get()), serial_hex(c.get()), not_after_ms(c.get())};
}

std::string serial_hex(const X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string s(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  for (auto& c : s)
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::int64_t not_after_ms(const X509* cert) {
  return asn1_ms(X509_get0_notAfter(cert));
}

std::int64_t not_before_ms(const X509* cert) {
  return asn1_ms(X509_get0_notBefore(cert));
}

std::string subject_nai(const X509* cert) {
  std::string nai;
  if (auto* sans = static_cast<GENERAL_NAMES*>(
          X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && nai.empty(); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_URI) continue;
      const std::string uri(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier)),
          static_cast<std::size_t>(ASN1_STRING_length(gn->d.uniformResourceIdentifier)));
      if (uri.rfind("sip:", 0) == 0) nai = uri.substr(4);
    }
    GENERAL_NAMES_free(sans);
  }
  if (nai.empty()) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      nai = cn;
  }
  return nai;
}

namespace {

// Hex SHA-256 of DER that i2d wrote (and the caller frees here); "" when it wrote none.
std::string sha256_of_der(unsigned char* der, int n) {
  std::string out;
  if (n > 0) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (EVP_Digest(der, static_cast<std::size_t>(n), md, &len, EVP_sha256(), nullptr) == 1)
      out = hex_of(md, len);
  }
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string spki_sha256(const EVP_PKEY* key) {
  unsigned char* spki = nullptr;
  const int n = i2d_PUBKEY(key, &spki);
  return sha256_of_der(spki, n);
}

std::string spki_sha256(const X509* cert) {
  // The SubjectPublicKeyInfo as the certificate holds it (no OpenSSL 3 encoder run; same bytes).
  unsigned char* spki = nullptr;
  const int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
  return sha256_of_der(spki, n);
}

std::string to_pem(const X509* cert) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), const_cast<X509*>(cert)) != 1) fail("PEM_write_X509");
  return drain(b.get());
}

std::string private_key_pem(const EVP_PKEY* key) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("PEM_write_PrivateKey");
  return drain(b.get());
}

std::string to_der(const X509* cert) {
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  std::string out;
  if (n > 0) out.assign(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

Cert cert_from_pem(std::string_view pem) {
  Bio b = read_bio(pem);
  return Cert(b ? PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::vector<Cert> certs_from_pem(std::string_view pem) {
  std::vector<Cert> out;
  Bio b = read_bio(pem);
  if (!b) return out;
  while (X509* c = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the read that ended the loop left "no start line"
  return out;
}

Cert cert_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (c != nullptr && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(c);  // trailing bytes: not one certificate
    return nullptr;
  }
  return Cert(c);
}

Key key_from_pem(std::string_view pem) {
  Bio b = read_bio(pem);
  return Key(b ? PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr) : nullptr);
}

}  // namespace oag::pki
