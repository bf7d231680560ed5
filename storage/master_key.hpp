#pragma once
// The 32-byte master key that encrypts K and OPc at rest (AES-256-GCM, NAI as associated data).

#include <string>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::storage {

/// A master key, loaded from or written to a file of exactly 32 bytes with mode 0600.
class MasterKey {
 public:
  /// Wraps 32 bytes.
  explicit MasterKey(const aka::Secret<32>& k);
  /// Reads `path`; throws std::runtime_error naming the file when it is missing, not 32 bytes,
  /// or readable by group/others.
  static MasterKey load(const std::string& path);
  /// Writes a fresh random key to `path` with mode 0600; refuses to overwrite an existing file.
  static MasterKey generate(const std::string& path);

  /// Encrypts `plain` with `aad` bound to it: version ‖ nonce ‖ ciphertext ‖ tag.
  std::vector<std::uint8_t> seal(aka::ByteView plain, std::string_view aad) const;
  /// Decrypts what seal() produced; false when the tag (key, AAD or data) does not match.
  bool open(aka::ByteView sealed, std::string_view aad, aka::SecretVec<64>& out) const;
  /// Hex of the first 8 bytes of SHA-256("oag-master-key" ‖ key): identifies the key, reveals
  /// nothing.
  std::string fingerprint() const;

 private:
  aka::Secret<32> key_;
};

}  // namespace oag::storage
