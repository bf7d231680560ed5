#pragma once
// The key schedule of the roaming login (DESIGN §7), pure: no sockets, no files, no clock.
// Every value is defined here once; the gateway (home and foreign agent), the client library
// and oagctl call these functions and nothing else computes them.
//
//   pwd_key = scrypt(password, "oag1 pwd " ‖ lower(NAI), N 2^15, r 8, p 1, 32)
//   HV      = HMAC(pwd_key, "oag1 hv" ‖ len‖NAI ‖ n1 ‖ len‖time ‖ len‖visited_realm
//                  ‖ SHA-256(DP) ‖ SHA-256(SPKI))
//   Z       = X25519(e, login_pub);  k_seal = HKDF(Z, salt n1, "oag1 seal" ‖ E ‖ login_pub)
//   K       = HKDF-Extract(salt n1, Z ‖ pwd_key)
//   Ks2     = HKDF-Expand(K, "oag1 ks2" ‖ n2, 32)   user ↔ FA
//   Ks3     = HKDF-Expand(K, "oag1 ks3" ‖ n3, 32)   user ↔ HA
//   HV2     = HMAC(pwd_key, "oag1 hv2" ‖ n2 ‖ HV)   only inside a NACK's proof
//   k_nack  = HKDF(Z, "oag1 nack")                    the NACK's proof key
//   confirm = HMAC(Ks3, "oag1 ack" ‖ len‖NAI ‖ n2 ‖ n3 ‖ SHA-256(certificate PEM))
// `len‖x` is a 2-byte big-endian length, then x. Every AEAD here is AES-256-GCM with a 12-byte
// zero nonce: each of its keys is derived for one message only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::login {

/// A 16-byte nonce (n1, n2, n3).
using Nonce = aka::Bytes<16>;
/// An X25519 public key.
using PublicKey = aka::Bytes<32>;
/// An X25519 private key.
using PrivateKey = aka::Secret<32>;

/// scrypt's cost parameters for pwd_key.
inline constexpr std::uint64_t kScryptN = 1u << 15;
/// scrypt's block size.
inline constexpr std::uint32_t kScryptR = 8;
/// scrypt's parallelism.
inline constexpr std::uint32_t kScryptP = 1;

/// scrypt (RFC 7914) of `password` and `salt`, `out.size()` bytes; throws std::runtime_error
/// when OpenSSL refuses the parameters.
void scrypt(std::string_view password, aka::ByteView salt, std::uint64_t n, std::uint32_t r,
            std::uint32_t p, std::span<std::uint8_t> out);

/// pwd_key of `password` for `nai`.
aka::Secret<32> pwd_key(std::string_view password, std::string_view nai);

/// What HV covers besides the key.
struct HvInput {
  std::string nai;               ///< the user's NAI
  Nonce n1{};                    ///< the client's nonce
  std::int64_t time = 0;         ///< Unix seconds the client put in M2
  std::string visited_realm;     ///< the FA's realm (the home realm at home)
  aka::Bytes<32> dp_sha256{};    ///< SHA-256 of the canonical device profile
  aka::Bytes<32> spki_sha256{};  ///< SHA-256 of the CSR's SubjectPublicKeyInfo (DER)
};

/// HV.
aka::Secret<32> hv(const aka::Secret<32>& pwd_key, const HvInput& in);
/// HV2.
aka::Secret<32> hv2(const aka::Secret<32>& pwd_key, const Nonce& n2, const aka::Secret<32>& hv);

/// A fresh X25519 key pair.
struct KeyPair {
  PrivateKey priv;  ///< private key
  PublicKey pub{};  ///< public key
};
/// Draws a key pair (the HA's login key, the client's ephemeral e).
KeyPair generate_keypair();
/// The public key of `priv`.
PublicKey public_of(const PrivateKey& priv);
/// The private key as unencrypted PKCS#8 PEM (the HA's login key file; `openssl pkey` reads it).
std::string private_key_pem(const PrivateKey& priv);
/// Reads an X25519 private key from PEM; nullopt when it is not one.
std::optional<PrivateKey> private_key_from_pem(std::string_view pem);

/// X25519(priv, peer); nullopt when the result is all zero (a low-order peer key).
std::optional<aka::Secret<32>> x25519(const PrivateKey& priv, const PublicKey& peer);

/// The client's side of the seal: `sealed` = E ‖ AES-256-GCM(k_seal, plaintext, aad), and Z.
struct Sealed {
  std::vector<std::uint8_t> blob;  ///< E ‖ ciphertext ‖ tag
  aka::Secret<32> z;               ///< the shared secret (for K and the NACK's proof)
};
/// Seals `plaintext` to `login_pub` with the ephemeral key `e` (fresh per login).
Sealed seal(const PrivateKey& e, const PublicKey& login_pub, const Nonce& n1,
            std::string_view plaintext, aka::ByteView aad);

/// The HA's side: what opened, and Z.
struct Opened {
  std::string plaintext;  ///< the sealed JSON
  aka::Secret<32> z;      ///< the shared secret
};
/// Opens a seal with the login key; nullopt when anything (E, ciphertext, tag, AAD, n1, key)
/// differs from what was sealed.
std::optional<Opened> open(const PrivateKey& login_priv, const Nonce& n1, aka::ByteView blob,
                           aka::ByteView aad);
/// The same with the login key's public half given (the home agent keeps it: one X25519
/// multiplication less per login).
std::optional<Opened> open(const PrivateKey& login_priv, const PublicKey& login_pub,
                           const Nonce& n1, aka::ByteView blob, aka::ByteView aad);

/// K, and the two session keys derived from it.
aka::Secret<32> k_master(const aka::Secret<32>& z, const aka::Secret<32>& pwd_key, const Nonce& n1);
/// Ks2 (user ↔ FA).
aka::Secret<32> ks2(const aka::Secret<32>& k, const Nonce& n2);
/// Ks3 (user ↔ HA).
aka::Secret<32> ks3(const aka::Secret<32>& k, const Nonce& n3);
/// The NACK proof's key.
aka::Secret<32> nack_key(const aka::Secret<32>& z);
/// The HA's confirmation of an ACK, which the FA relays and cannot compute.
aka::Secret<32> confirm(const aka::Secret<32>& ks3, std::string_view nai, const Nonce& n2,
                        const Nonce& n3, std::string_view certificate_pem);

/// AES-256-GCM with a zero nonce: ciphertext ‖ tag.
std::vector<std::uint8_t> aead_seal(const aka::Secret<32>& key, std::string_view plaintext,
                                    aka::ByteView aad);
/// Opens aead_seal's output; nullopt when the tag does not match.
std::optional<std::string> aead_open(const aka::Secret<32>& key, aka::ByteView blob,
                                     aka::ByteView aad);

/// HMAC-SHA256.
aka::Secret<32> hmac(aka::ByteView key, aka::ByteView data);
/// SHA-256.
aka::Bytes<32> sha256(aka::ByteView data);
/// SHA-256 of text.
aka::Bytes<32> sha256(std::string_view data);

/// The MAC of an OAG-Session (or renewal) authorization:
/// HMAC(key, len‖method ‖ len‖path ‖ len‖ts ‖ SHA-256(body)).
aka::Secret<32> request_mac(const aka::Secret<32>& key, std::string_view method,
                            std::string_view path, std::int64_t ts_ms, std::string_view body);

/// Constant-time equality of two secrets' bytes.
bool equal(const aka::Secret<32>& a, aka::ByteView b);

}  // namespace oag::login
