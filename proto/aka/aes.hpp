#pragma once
// AES-128 in ECB mode over a per-thread OpenSSL context that is re-keyed, not re-created: a new
// context per key costs ~2 µs, a re-key ~0.1 µs, and a gateway changes K on every vector.

#include <cstddef>
#include <cstdint>

#include <openssl/evp.h>

namespace oag::aka::detail {

/// This thread's AES-128-ECB context, keyed once per subscriber and then used for several calls.
class ThreadAes {
 public:
  /// The calling thread's instance, keyed with the 16-byte `key`.
  static ThreadAes& keyed(const std::uint8_t* key);
  /// Encrypts `n` bytes (a multiple of 16) block by block; several blocks pipeline on AES-NI.
  void encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t n);

  ThreadAes(const ThreadAes&) = delete;
  ThreadAes& operator=(const ThreadAes&) = delete;
  ~ThreadAes();

 private:
  ThreadAes();
  EVP_CIPHER* cipher_;
  EVP_CIPHER_CTX* ctx_;
};

}  // namespace oag::aka::detail
