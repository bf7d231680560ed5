#include "tools/oagctl/pki.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace oag::tools::pki {

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

FILE* open_private(const std::string& path, mode_t mode, bool overwrite) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL), mode);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  if (fchmod(fd, mode) != 0) {
    ::close(fd);
    throw std::runtime_error(path + ": " + std::strerror(errno));
  }
  FILE* f = fdopen(fd, "w");
  if (f == nullptr) {
    ::close(fd);
    throw std::runtime_error(path + ": " + std::strerror(errno));
  }
  return f;
}

}  // namespace

Key generate_key() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) fail("EC P-256 key generation");
  return k;
}

Cert issue(const Spec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* issuer_key) {
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and 128 bits long, never shortened
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);  // tolerate small clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(spec.days) * 86400);
  X509_set_pubkey(cert.get(), subject_key);
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
    add_ext(cert.get(), issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
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

  if (X509_sign(cert.get(), issuer_key ? issuer_key : subject_key, EVP_sha256()) == 0)
    fail("signing");
  return cert;
}

void write_key(const std::string& path, EVP_PKEY* key, bool overwrite) {
  FILE* f = open_private(path, 0600, overwrite);
  const bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) throw std::runtime_error(path + ": cannot write key");
}

void write_cert(const std::string& path, X509* cert, bool overwrite) {
  FILE* f = open_private(path, 0644, overwrite);
  const bool ok = PEM_write_X509(f, cert) == 1;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) throw std::runtime_error(path + ": cannot write certificate");
}

Key load_key(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) throw std::runtime_error(path + ": " + std::strerror(errno));
  Key k(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!k) throw std::runtime_error(path + ": not a PEM private key");
  return k;
}

Cert load_cert(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) throw std::runtime_error(path + ": " + std::strerror(errno));
  Cert c(PEM_read_X509(f, nullptr, nullptr, nullptr));
  std::fclose(f);
  if (!c) throw std::runtime_error(path + ": not a PEM certificate");
  return c;
}

std::string serial_hex(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = BN_bn2hex(bn);
  std::string s(hex);
  OPENSSL_free(hex);
  BN_free(bn);
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

long long not_after_ms(X509* cert) {
  struct tm t {};
  ASN1_TIME_to_tm(X509_get0_notAfter(cert), &t);
  return static_cast<long long>(timegm(&t)) * 1000;
}

}  // namespace oag::tools::pki
