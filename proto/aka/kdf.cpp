#include "proto/aka/kdf.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>

#include <stdexcept>
#include <vector>

namespace oag::aka {

namespace {

ByteView view(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Secret<32> ck_ik_kdf(const Secret<16>& ck, const Secret<16>& ik, std::uint8_t fc,
                     std::initializer_list<ByteView> params) {
  Secret<32> key;
  std::copy(ck.expose().begin(), ck.expose().end(), key.data());
  std::copy(ik.expose().begin(), ik.expose().end(), key.data() + 16);
  return kdf(key.expose(), fc, params);
}

}  // namespace

void hkdf(HkdfMode mode, ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out) {
  // Fetched once: a provider look-up costs more than the derivation itself.
  static EVP_KDF* const impl = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = impl ? EVP_KDF_CTX_new(impl) : nullptr;
  if (!ctx) throw std::runtime_error("HKDF unavailable");
  int m = mode == HkdfMode::expand_only    ? EVP_KDF_HKDF_MODE_EXPAND_ONLY
          : mode == HkdfMode::extract_only ? EVP_KDF_HKDF_MODE_EXTRACT_ONLY
                                           : EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
  char digest[] = "SHA256";
  OSSL_PARAM params[6];
  int n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
  params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &m);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, const_cast<std::uint8_t*>(ikm.data()), ikm.size());
  // An empty salt is left out (HKDF then uses HashLen zeros): OpenSSL refuses a null one.
  if (mode != HkdfMode::expand_only && !salt.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_SALT, const_cast<std::uint8_t*>(salt.data()), salt.size());
  if (mode != HkdfMode::extract_only && !info.empty())
    params[n++] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_INFO, const_cast<std::uint8_t*>(info.data()), info.size());
  params[n] = OSSL_PARAM_construct_end();
  const int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) throw std::runtime_error("HKDF failed");
}

Secret<32> kdf(ByteView key, std::uint8_t fc, std::initializer_list<ByteView> params) {
  std::vector<std::uint8_t> s;
  s.reserve(64);
  s.push_back(fc);
  for (ByteView p : params) {
    if (p.size() > 0xffff) throw std::invalid_argument("KDF parameter longer than 65535 bytes");
    s.insert(s.end(), p.begin(), p.end());
    s.push_back(static_cast<std::uint8_t>(p.size() >> 8));
    s.push_back(static_cast<std::uint8_t>(p.size()));
  }
  Secret<32> out;
  unsigned len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), s.data(), s.size(), out.data(),
           &len) == nullptr ||
      len != 32) {
    throw std::runtime_error("OpenSSL: HMAC-SHA-256 failed");
  }
  OPENSSL_cleanse(s.data(), s.size());  // S holds RES for RES*
  return out;
}

CkIkPrime ck_ik_prime(const Secret<16>& ck, const Secret<16>& ik, std::string_view network_name,
                      const Bytes<6>& sqn_xor_ak) {
  const auto k = ck_ik_kdf(ck, ik, 0x20, {view(network_name), sqn_xor_ak});
  CkIkPrime r;
  std::copy(k.data(), k.data() + 16, r.ck_prime.data());
  std::copy(k.data() + 16, k.data() + 32, r.ik_prime.data());
  return r;
}

Secret<32> kausf(const Secret<16>& ck, const Secret<16>& ik, std::string_view snn,
                 const Bytes<6>& sqn_xor_ak) {
  return ck_ik_kdf(ck, ik, 0x6a, {view(snn), sqn_xor_ak});
}

Secret<16> res_star(const Secret<16>& ck, const Secret<16>& ik, std::string_view snn,
                    const Bytes<16>& rand, ByteView res) {
  const auto k = ck_ik_kdf(ck, ik, 0x6b, {view(snn), rand, res});
  Secret<16> r;
  std::copy(k.data() + 16, k.data() + 32, r.data());
  return r;
}

Bytes<16> hxres_star(const Bytes<16>& rand, const Secret<16>& xres_star) {
  std::uint8_t in[32];
  std::copy(rand.begin(), rand.end(), in);
  std::copy(xres_star.data(), xres_star.data() + 16, in + 16);
  std::uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(in, sizeof in, md);
  Bytes<16> r{};
  std::copy(md + 16, md + 32, r.begin());
  OPENSSL_cleanse(in, sizeof in);
  return r;
}

Secret<32> kseaf(const Secret<32>& kausf_key, std::string_view snn) {
  return kdf(kausf_key.expose(), 0x6c, {view(snn)});
}

}  // namespace oag::aka
