#pragma once
// Fixed-size byte strings: public values (Bytes) and secrets (Secret, SecretVec) that wipe
// themselves, compare in constant time and cannot be streamed or formatted by accident.

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <span>
#include <stdexcept>

namespace oag::aka {

/// A public fixed-size byte string (RAND, AUTN, MAC, AMF).
template <std::size_t N>
using Bytes = std::array<std::uint8_t, N>;

/// A read-only view of bytes.
using ByteView = std::span<const std::uint8_t>;

/// A fixed-size secret (K, OPc, CK, IK, Kc, SRES): wiped on destruction, never printable.
template <std::size_t N>
class Secret {
 public:
  /// All-zero secret.
  Secret() noexcept { b_.fill(0); }
  /// Takes a copy of `b`; the caller wipes its own copy.
  explicit Secret(const Bytes<N>& b) noexcept : b_(b) {}
  Secret(const Secret&) noexcept = default;
  Secret& operator=(const Secret&) noexcept = default;
  ~Secret() { OPENSSL_cleanse(b_.data(), N); }

  /// Number of bytes.
  static constexpr std::size_t size() noexcept { return N; }
  /// Mutable bytes, for the functions that compute the secret.
  std::uint8_t* data() noexcept { return b_.data(); }
  /// Read-only bytes.
  const std::uint8_t* data() const noexcept { return b_.data(); }
  /// The bytes, by name, so that every place a secret leaves its type is easy to find.
  ByteView expose() const noexcept { return {b_.data(), N}; }
  /// Constant-time equality.
  bool operator==(const Secret& o) const noexcept {
    return CRYPTO_memcmp(b_.data(), o.b_.data(), N) == 0;
  }

  friend std::ostream& operator<<(std::ostream&, const Secret&) = delete;

 private:
  Bytes<N> b_;
};

/// A secret of variable length up to `Cap` bytes (K of 128 or 256 bits, RES of 32..256 bits).
template <std::size_t Cap>
class SecretVec {
 public:
  /// Empty secret.
  SecretVec() noexcept { b_.fill(0); }
  /// Copies `v`; throws std::length_error when it does not fit.
  explicit SecretVec(ByteView v) {
    if (v.size() > Cap) throw std::length_error("secret too long");
    b_.fill(0);
    std::copy(v.begin(), v.end(), b_.begin());
    n_ = v.size();
  }
  SecretVec(const SecretVec&) noexcept = default;
  SecretVec& operator=(const SecretVec&) noexcept = default;
  ~SecretVec() { OPENSSL_cleanse(b_.data(), Cap); }

  /// Current length in bytes.
  std::size_t size() const noexcept { return n_; }
  /// Sets the length (bytes past it are zeroed); throws when above the capacity.
  void resize(std::size_t n) {
    if (n > Cap) throw std::length_error("secret too long");
    if (n < n_) OPENSSL_cleanse(b_.data() + n, n_ - n);
    n_ = n;
  }
  /// Mutable bytes.
  std::uint8_t* data() noexcept { return b_.data(); }
  /// Read-only bytes.
  const std::uint8_t* data() const noexcept { return b_.data(); }
  /// The bytes, by name (see Secret::expose).
  ByteView expose() const noexcept { return {b_.data(), n_}; }
  /// Constant-time equality of length and content.
  bool operator==(const SecretVec& o) const noexcept {
    return n_ == o.n_ && CRYPTO_memcmp(b_.data(), o.b_.data(), n_) == 0;
  }

  friend std::ostream& operator<<(std::ostream&, const SecretVec&) = delete;

 private:
  Bytes<Cap> b_;
  std::size_t n_ = 0;
};

/// XOR of two equal-size byte arrays.
template <std::size_t N>
constexpr Bytes<N> xor_bytes(const Bytes<N>& a, const Bytes<N>& b) noexcept {
  Bytes<N> r{};
  for (std::size_t i = 0; i < N; ++i) r[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
  return r;
}

/// Constant-time comparison of two byte views of equal length (false when lengths differ).
inline bool equal_ct(ByteView a, ByteView b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace oag::aka
