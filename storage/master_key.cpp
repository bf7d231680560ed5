#include "storage/master_key.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "proto/aka/hex.hpp"

namespace oag::storage {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;

// The cipher is fetched once and each thread keeps one context: an implicit fetch and a fresh
// context per call cost more than the AES-GCM itself (measured: bench_storage).
const EVP_CIPHER* gcm() {
  static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (c == nullptr) throw std::runtime_error("OpenSSL: AES-256-GCM unavailable");
  return c;
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

EVP_CIPHER_CTX* thread_ctx() {
  thread_local std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) throw std::runtime_error("OpenSSL: out of memory");
  return ctx.get();
}

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

MasterKey::MasterKey(const aka::Secret<32>& k) : key_(k) {}

MasterKey MasterKey::load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("master key file " + path + ": " + errno_text());
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw std::runtime_error("master key file " + path + ": " + errno_text());
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw std::runtime_error("master key file " + path + " must be mode 0600, not " + mode);
  }
  aka::Secret<32> k;
  std::uint8_t extra;
  const ssize_t n = ::read(fd, k.data(), 32);
  const ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != 32 || more != 0)
    throw std::runtime_error("master key file " + path + " must hold exactly 32 bytes");
  return MasterKey(k);
}

MasterKey MasterKey::generate(const std::string& path) {
  aka::Secret<32> k;
  if (RAND_bytes(k.data(), 32) != 1) throw std::runtime_error("OpenSSL: RAND_bytes failed");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("master key file " + path + ": " + errno_text());
  const bool ok = ::write(fd, k.data(), 32) == 32 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("master key file " + path + ": cannot write");
  return MasterKey(k);
}

std::vector<std::uint8_t> MasterKey::seal(aka::ByteView plain, std::string_view aad) const {
  std::vector<std::uint8_t> out(1 + kNonce + plain.size() + kTag);
  out[0] = kVersion;
  if (RAND_bytes(out.data() + 1, kNonce) != 1)
    throw std::runtime_error("OpenSSL: RAND_bytes failed");
  EVP_CIPHER_CTX* ctx = thread_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx, gcm(), key_.data(), out.data() + 1, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const std::uint8_t*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx, out.data() + 1 + kNonce, &len, plain.data(),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, out.data() + 1 + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTag,
                          out.data() + 1 + kNonce + plain.size()) != 1) {
    throw std::runtime_error("OpenSSL: AES-256-GCM encryption failed");
  }
  return out;
}

bool MasterKey::open(aka::ByteView sealed, std::string_view aad, aka::SecretVec<64>& out) const {
  if (sealed.size() < 1 + kNonce + kTag || sealed[0] != kVersion) return false;
  const std::size_t n = sealed.size() - 1 - kNonce - kTag;
  if (n > 64) return false;
  out.resize(n);
  EVP_CIPHER_CTX* ctx = thread_ctx();
  int len = 0;
  std::uint8_t tag[kTag];
  std::memcpy(tag, sealed.data() + 1 + kNonce + n, kTag);
  const bool ok =
      EVP_DecryptInit_ex2(ctx, gcm(), key_.data(), sealed.data() + 1, nullptr) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const std::uint8_t*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, out.data(), &len, sealed.data() + 1 + kNonce, static_cast<int>(n)) ==
          1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTag, tag) == 1 &&
      EVP_DecryptFinal_ex(ctx, out.data() + len, &len) == 1;
  if (!ok) out.resize(0);
  return ok;
}

std::string MasterKey::fingerprint() const {
  std::uint8_t md[SHA256_DIGEST_LENGTH];
  std::vector<std::uint8_t> in{'o', 'a', 'g', '-', 'm', 'a', 's',
                               't', 'e', 'r', '-', 'k', 'e', 'y'};
  in.insert(in.end(), key_.data(), key_.data() + 32);
  SHA256(in.data(), in.size(), md);
  OPENSSL_cleanse(in.data(), in.size());
  return aka::to_hex(aka::ByteView(md, 8));
}

}  // namespace oag::storage
