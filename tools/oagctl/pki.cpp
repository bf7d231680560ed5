#include "tools/oagctl/pki.hpp"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace oag::tools::pki {

namespace {

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

Cert make_issuing_ca(X509* root, EVP_PKEY* root_key, const std::string& realm, Key& key,
                     std::int64_t now_s) {
  key = generate_key();
  Spec s;
  s.ca = true;
  s.path_len = 0;
  s.organization = realm;
  s.common_name = realm + " OAG issuing CA";
  s.lifetime_s = 5LL * 365 * 86400;
  return issue(s, key.get(), root, root_key, now_s);
}

long path_len(X509* ca) {
  if (X509_check_ca(ca) == 0) return -2;
  return X509_get_pathlen(ca);
}

void write_key(const std::string& path, EVP_PKEY* key, bool overwrite) {
  FILE* f = open_private(path, 0600, overwrite);
  const bool ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) throw std::runtime_error(path + ": cannot write key");
}

void write_private_text(const std::string& path, const std::string& text, bool overwrite) {
  FILE* f = open_private(path, 0600, overwrite);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
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

}  // namespace oag::tools::pki
