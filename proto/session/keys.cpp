#include "proto/session/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>

#include <stdexcept>
#include <vector>

#include "proto/aka/hex.hpp"

namespace oag::session {

namespace {

// HKDF in the given mode (extract-and-expand, or expand only when salt is empty and
// `expand_only`), `out_len` bytes into `out`.
void hkdf(aka::ByteView ikm, aka::ByteView salt, aka::ByteView info, bool expand_only,
          std::uint8_t* out, std::size_t out_len) {
  // Fetched once: a provider look-up costs more than the derivation itself.
  static EVP_KDF* const kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  if (!ctx) throw std::runtime_error("HKDF unavailable");
  int mode = expand_only ? EVP_KDF_HKDF_MODE_EXPAND_ONLY : EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
  char digest[] = "SHA256";
  OSSL_PARAM params[6];
  int n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()), ikm.size());
  if (!expand_only)
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  const int ok = EVP_KDF_derive(ctx, out, out_len, params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) throw std::runtime_error("HKDF failed");
}

void put_name(std::vector<std::uint8_t>& v, std::string_view s) {
  v.push_back(static_cast<std::uint8_t>(s.size() >> 8));
  v.push_back(static_cast<std::uint8_t>(s.size()));
  v.insert(v.end(), s.begin(), s.end());
}

SrtpKeys export_srtp(const aka::Secret<32>& ssk, std::string_view label) {
  aka::Secret<30> both;
  hkdf(ssk.expose(), {}, {reinterpret_cast<const std::uint8_t*>(label.data()), label.size()}, true,
       both.data(), both.size());
  SrtpKeys k;
  std::copy_n(both.data(), 16, k.master_key.data());
  std::copy_n(both.data() + 16, 14, k.master_salt.data());
  return k;
}

}  // namespace

SessionKeys derive(const SessionInput& in) {
  std::vector<std::uint8_t> ikm(in.key_b.begin(), in.key_b.end());
  ikm.insert(ikm.end(), in.key_a.begin(), in.key_a.end());
  aka::Bytes<32> salt{};
  SHA256(reinterpret_cast<const unsigned char*>(in.call_id.data()), in.call_id.size(), salt.data());
  std::vector<std::uint8_t> info{'o', 'a', 'g', '1'};
  put_name(info, in.nai_a);
  put_name(info, in.nai_b);
  info.insert(info.end(), in.rand_b.begin(), in.rand_b.end());
  info.insert(info.end(), in.rand_a.begin(), in.rand_a.end());
  SessionKeys k;
  hkdf(ikm, salt, info, false, k.ssk.data(), k.ssk.size());
  OPENSSL_cleanse(ikm.data(), ikm.size());
  k.a_to_b = export_srtp(k.ssk, "oag1 srtp a>b");
  k.b_to_a = export_srtp(k.ssk, "oag1 srtp b>a");
  return k;
}

std::string SessionKeys::fingerprint() const {
  std::vector<std::uint8_t> m{'o', 'a', 'g', '1', ' ', 'f', 'i', 'n',
                              'g', 'e', 'r', 'p', 'r', 'i', 'n', 't'};
  m.insert(m.end(), ssk.data(), ssk.data() + ssk.size());
  aka::Bytes<32> h{};
  SHA256(m.data(), m.size(), h.data());
  OPENSSL_cleanse(m.data(), m.size());
  return aka::to_hex(aka::ByteView(h.data(), 8));
}

}  // namespace oag::session
