#include "proto/pki/es256.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>

#include <memory>
#include <stdexcept>

namespace oag::pki {

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

}  // namespace

aka::Bytes<64> es256_sign(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::vector<unsigned char> der(EVP_PKEY_get_size(key) > 0 ? EVP_PKEY_get_size(key) : 80);
  std::size_t n = der.size();
  if (!ctx || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), der.data(), &n, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1)
    throw std::runtime_error("ES256: signing failed");
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(n)));
  if (!sig) throw std::runtime_error("ES256: malformed signature");
  aka::Bytes<64> out{};
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + 32, 32) != 32)
    throw std::runtime_error("ES256: R or S longer than 32 bytes");
  return out;
}

bool es256_verify(EVP_PKEY* key, std::string_view data, aka::ByteView sig) {
  if (sig.size() != 64 || key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  std::unique_ptr<ECDSA_SIG, SigFree> s(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(sig.data(), 32, nullptr);
  BIGNUM* ss = BN_bin2bn(sig.data() + 32, 32, nullptr);
  if (!s || !r || !ss || ECDSA_SIG_set0(s.get(), r, ss) != 1) {
    BN_free(r);
    BN_free(ss);
    return false;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(s.get(), &der);
  if (len <= 0) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(len),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  OPENSSL_free(der);
  return ok;
}

}  // namespace oag::pki
