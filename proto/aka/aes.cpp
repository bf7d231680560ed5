#include "proto/aka/aes.hpp"

#include <stdexcept>

namespace oag::aka::detail {

ThreadAes::ThreadAes()
    : cipher_(EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr)), ctx_(EVP_CIPHER_CTX_new()) {
  if (cipher_ == nullptr || ctx_ == nullptr ||
      EVP_EncryptInit_ex2(ctx_, cipher_, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx_, 0) != 1) {
    throw std::runtime_error("OpenSSL: cannot set up AES-128-ECB");
  }
}

ThreadAes::~ThreadAes() {
  EVP_CIPHER_CTX_free(ctx_);  // also wipes the last key schedule
  EVP_CIPHER_free(cipher_);
}

ThreadAes& ThreadAes::keyed(const std::uint8_t* key) {
  thread_local ThreadAes aes;
  if (EVP_EncryptInit_ex2(aes.ctx_, nullptr, key, nullptr, nullptr) != 1)
    throw std::runtime_error("OpenSSL: AES-128 key setup failed");
  return aes;
}

void ThreadAes::encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t n) {
  int len = 0;
  if (EVP_EncryptUpdate(ctx_, out, &len, in, static_cast<int>(n)) != 1 ||
      static_cast<std::size_t>(len) != n) {
    throw std::runtime_error("OpenSSL: AES-128-ECB failed");
  }
}

}  // namespace oag::aka::detail
