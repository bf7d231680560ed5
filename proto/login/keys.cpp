#include "proto/login/keys.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

#include "proto/aka/kdf.hpp"
#include "proto/ident/ident.hpp"

namespace oag::login {

namespace {

aka::ByteView view(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

void put(std::vector<std::uint8_t>& v, std::string_view s) {
  v.insert(v.end(), s.begin(), s.end());
}

void put(std::vector<std::uint8_t>& v, aka::ByteView b) {
  v.insert(v.end(), b.begin(), b.end());
}

// len‖x: a 2-byte big-endian length, then x (names longer than 65,535 bytes never get here:
// the messages refuse them first).
void put_len(std::vector<std::uint8_t>& v, std::string_view s) {
  if (s.size() > 0xffff) throw std::length_error("field longer than 65535 bytes");
  v.push_back(static_cast<std::uint8_t>(s.size() >> 8));
  v.push_back(static_cast<std::uint8_t>(s.size()));
  put(v, s);
}

// A buffer that held secret material is wiped before it is freed.
struct Wiped {
  std::vector<std::uint8_t> v;
  ~Wiped() { OPENSSL_cleanse(v.data(), v.size()); }
};

struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CipherFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

std::unique_ptr<EVP_PKEY, PkeyFree> private_pkey(const PrivateKey& k) {
  std::unique_ptr<EVP_PKEY, PkeyFree> p(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, k.data(), k.size()));
  if (!p) throw std::runtime_error("X25519 key rejected");
  return p;
}

constexpr std::size_t kTag = 16;

}  // namespace

void scrypt(std::string_view password, aka::ByteView salt, std::uint64_t n, std::uint32_t r,
            std::uint32_t p, std::span<std::uint8_t> out) {
  // Memory is 128·r·N bytes (plus p·128·r): allowed explicitly, since OpenSSL's default cap
  // (32 MiB) is exactly pwd_key's need and would refuse any larger test vector.
  const std::uint64_t maxmem = 128ull * r * (n + p) + (1u << 20);
  if (EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), n, r, p, maxmem,
                     out.data(), out.size()) != 1)
    throw std::runtime_error("scrypt refused its parameters");
}

aka::Secret<32> pwd_key(std::string_view password, std::string_view nai) {
  const std::string salt = "oag1 pwd " + ident::lower(nai);
  aka::Secret<32> out;
  scrypt(password, view(salt), kScryptN, kScryptR, kScryptP, {out.data(), out.size()});
  return out;
}

aka::Secret<32> hmac(aka::ByteView key, aka::ByteView data) {
  aka::Secret<32> out;
  unsigned n = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
            out.data(), &n) ||
      n != 32)
    throw std::runtime_error("HMAC failed");
  return out;
}

aka::Bytes<32> sha256(aka::ByteView data) {
  aka::Bytes<32> h{};
  SHA256(data.data(), data.size(), h.data());
  return h;
}

aka::Bytes<32> sha256(std::string_view data) {
  return sha256(view(data));
}

aka::Secret<32> hv(const aka::Secret<32>& pwd_key, const HvInput& in) {
  std::vector<std::uint8_t> m;
  m.reserve(160);
  put(m, std::string_view("oag1 hv"));
  put_len(m, in.nai);
  put(m, aka::ByteView(in.n1));
  put_len(m, std::to_string(in.time));
  put_len(m, in.visited_realm);
  put(m, aka::ByteView(in.dp_sha256));
  put(m, aka::ByteView(in.spki_sha256));
  return hmac(pwd_key.expose(), m);
}

aka::Secret<32> hv2(const aka::Secret<32>& pwd_key, const Nonce& n2, const aka::Secret<32>& hv) {
  Wiped m;
  put(m.v, std::string_view("oag1 hv2"));
  put(m.v, aka::ByteView(n2));
  put(m.v, hv.expose());
  return hmac(pwd_key.expose(), m.v);
}

KeyPair generate_keypair() {
  KeyPair kp;
  if (RAND_priv_bytes(kp.priv.data(), static_cast<int>(kp.priv.size())) != 1)
    throw std::runtime_error("no randomness");
  kp.pub = public_of(kp.priv);
  return kp;
}

PublicKey public_of(const PrivateKey& priv) {
  const auto k = private_pkey(priv);
  PublicKey pub{};
  std::size_t n = pub.size();
  if (EVP_PKEY_get_raw_public_key(k.get(), pub.data(), &n) != 1 || n != pub.size())
    throw std::runtime_error("X25519 public key unavailable");
  return pub;
}

std::string private_key_pem(const PrivateKey& priv) {
  const auto k = private_pkey(priv);
  BIO* bio = BIO_new(BIO_s_secmem());
  if (!bio || PEM_write_bio_PrivateKey(bio, k.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    BIO_free(bio);
    throw std::runtime_error("cannot encode the login key");
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

std::optional<PrivateKey> private_key_from_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return std::nullopt;
  std::unique_ptr<EVP_PKEY, PkeyFree> k(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (!k || EVP_PKEY_get_id(k.get()) != EVP_PKEY_X25519) return std::nullopt;
  PrivateKey out;
  std::size_t n = out.size();
  if (EVP_PKEY_get_raw_private_key(k.get(), out.data(), &n) != 1 || n != out.size())
    return std::nullopt;
  return out;
}

std::optional<aka::Secret<32>> x25519(const PrivateKey& priv, const PublicKey& peer) {
  const auto mine = private_pkey(priv);
  std::unique_ptr<EVP_PKEY, PkeyFree> theirs(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  if (!theirs) return std::nullopt;
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(mine.get(), nullptr));
  aka::Secret<32> z;
  std::size_t n = z.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), theirs.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), z.data(), &n) != 1 || n != z.size())
    return std::nullopt;  // OpenSSL refuses an all-zero result (RFC 7748 §6.1)
  return z;
}

namespace {

aka::Secret<32> seal_key(const aka::Secret<32>& z, const PublicKey& e_pub,
                         const PublicKey& login_pub, const Nonce& n1) {
  std::vector<std::uint8_t> info;
  put(info, std::string_view("oag1 seal"));
  put(info, aka::ByteView(e_pub));
  put(info, aka::ByteView(login_pub));
  aka::Secret<32> k;
  aka::hkdf(aka::HkdfMode::extract_and_expand, z.expose(), n1, info, {k.data(), k.size()});
  return k;
}

}  // namespace

std::vector<std::uint8_t> aead_seal(const aka::Secret<32>& key, std::string_view plaintext,
                                    aka::ByteView aad) {
  static const std::uint8_t kZeroNonce[12] = {};
  std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
  std::vector<std::uint8_t> out(plaintext.size() + kTag);
  int n = 0, fin = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), kZeroNonce) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out.data(), &n,
                        reinterpret_cast<const std::uint8_t*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + n, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, out.data() + plaintext.size()) !=
          1)
    throw std::runtime_error("AES-256-GCM failed");
  return out;
}

std::optional<std::string> aead_open(const aka::Secret<32>& key, aka::ByteView blob,
                                     aka::ByteView aad) {
  static const std::uint8_t kZeroNonce[12] = {};
  if (blob.size() < kTag) return std::nullopt;
  const std::size_t len = blob.size() - kTag;
  std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
  std::string out(len, '\0');
  int n = 0, fin = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), kZeroNonce) != 1)
    throw std::runtime_error("AES-256-GCM unavailable");
  const bool ok =
      (aad.empty() ||
       EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) == 1) &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<std::uint8_t*>(out.data()), &n, blob.data(),
                        static_cast<int>(len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag,
                          const_cast<std::uint8_t*>(blob.data() + len)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<std::uint8_t*>(out.data()) + n, &fin) == 1;
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  return out;
}

Sealed seal(const PrivateKey& e, const PublicKey& login_pub, const Nonce& n1,
            std::string_view plaintext, aka::ByteView aad) {
  const PublicKey e_pub = public_of(e);
  auto z = x25519(e, login_pub);
  if (!z) throw std::runtime_error("login public key rejected");
  const auto k = seal_key(*z, e_pub, login_pub, n1);
  Sealed s;
  s.blob.assign(e_pub.begin(), e_pub.end());
  const auto ct = aead_seal(k, plaintext, aad);
  s.blob.insert(s.blob.end(), ct.begin(), ct.end());
  s.z = *z;
  return s;
}

std::optional<Opened> open(const PrivateKey& login_priv, const Nonce& n1, aka::ByteView blob,
                           aka::ByteView aad) {
  return open(login_priv, public_of(login_priv), n1, blob, aad);
}

std::optional<Opened> open(const PrivateKey& login_priv, const PublicKey& login_pub,
                           const Nonce& n1, aka::ByteView blob, aka::ByteView aad) {
  if (blob.size() < 32 + kTag) return std::nullopt;
  PublicKey e_pub{};
  std::copy_n(blob.begin(), 32, e_pub.begin());
  auto z = x25519(login_priv, e_pub);
  if (!z) return std::nullopt;
  const auto k = seal_key(*z, e_pub, login_pub, n1);
  auto plain = aead_open(k, blob.subspan(32), aad);
  if (!plain) return std::nullopt;
  Opened o;
  o.plaintext = std::move(*plain);
  o.z = *z;
  return o;
}

aka::Secret<32> k_master(const aka::Secret<32>& z, const aka::Secret<32>& pwd_key,
                         const Nonce& n1) {
  Wiped ikm;
  put(ikm.v, z.expose());
  put(ikm.v, pwd_key.expose());
  aka::Secret<32> k;
  aka::hkdf(aka::HkdfMode::extract_only, ikm.v, n1, {}, {k.data(), k.size()});
  return k;
}

namespace {

aka::Secret<32> expand(const aka::Secret<32>& k, std::string_view label, const Nonce& n) {
  std::vector<std::uint8_t> info;
  put(info, label);
  put(info, aka::ByteView(n));
  aka::Secret<32> out;
  aka::hkdf(aka::HkdfMode::expand_only, k.expose(), {}, info, {out.data(), out.size()});
  return out;
}

}  // namespace

aka::Secret<32> ks2(const aka::Secret<32>& k, const Nonce& n2) {
  return expand(k, "oag1 ks2", n2);
}

aka::Secret<32> ks3(const aka::Secret<32>& k, const Nonce& n3) {
  return expand(k, "oag1 ks3", n3);
}

aka::Secret<32> nack_key(const aka::Secret<32>& z) {
  aka::Secret<32> out;
  aka::hkdf(aka::HkdfMode::extract_and_expand, z.expose(), {}, view("oag1 nack"),
            {out.data(), out.size()});
  return out;
}

aka::Secret<32> confirm(const aka::Secret<32>& ks3, std::string_view nai, const Nonce& n2,
                        const Nonce& n3, std::string_view certificate_pem) {
  std::vector<std::uint8_t> m;
  put(m, std::string_view("oag1 ack"));
  put_len(m, nai);
  put(m, aka::ByteView(n2));
  put(m, aka::ByteView(n3));
  const auto h = sha256(certificate_pem);
  put(m, aka::ByteView(h));
  return hmac(ks3.expose(), m);
}

aka::Secret<32> request_mac(const aka::Secret<32>& key, std::string_view method,
                            std::string_view path, std::int64_t ts_ms, std::string_view body) {
  std::vector<std::uint8_t> m;
  put_len(m, method);
  put_len(m, path);
  put_len(m, std::to_string(ts_ms));
  const auto h = sha256(body);
  put(m, aka::ByteView(h));
  return hmac(key.expose(), m);
}

bool equal(const aka::Secret<32>& a, aka::ByteView b) {
  return b.size() == a.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace oag::login
