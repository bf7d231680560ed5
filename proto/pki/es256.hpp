#pragma once
// ES256 as JOSE writes it (RFC 7518 §3.4): ECDSA P-256 with SHA-256, the signature as the raw
// 64 bytes R ‖ S (each left-padded to 32), not OpenSSL's DER. Signed charges (DESIGN §7) and
// PASSporT (RFC 8225, §8) use it.

#include <optional>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

#include "proto/aka/bytes.hpp"

namespace oag::pki {

/// Signs `data` with the P-256 private key `key`: R ‖ S. Throws std::runtime_error when OpenSSL
/// fails (not a P-256 key).
aka::Bytes<64> es256_sign(EVP_PKEY* key, std::string_view data);
/// True when `sig` (R ‖ S) is `key`'s signature of `data`.
bool es256_verify(EVP_PKEY* key, std::string_view data, aka::ByteView sig);

}  // namespace oag::pki
