#include "proto/sip/sdp.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "proto/aka/base64.hpp"
#include "proto/aka/hex.hpp"

namespace oag::sip {

SrtpKey new_srtp_key() {
  SrtpKey k;
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return k;
}

std::string sdp_with_key(std::string_view host, unsigned short port, std::string_view session_id,
                         const SrtpKey& key) {
  const std::string h(host), p = std::to_string(port), id(session_id);
  return "v=0\r\no=- " + id + " 1 IN IP4 " + h + "\r\ns=oag\r\nc=IN IP4 " + h +
         "\r\nt=0 0\r\nm=audio " + p + " RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 " +
         std::string(kSrtpSuite) + " inline:" + aka::base64(key.expose()) + "\r\n";
}

std::optional<SrtpKey> sdes_key(std::string_view sdp, std::string* why) {
  const auto no = [&](const char* w) -> std::optional<SrtpKey> {
    if (why) *why = w;
    return std::nullopt;
  };
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    auto eol = sdp.find('\n', pos);
    if (eol == std::string_view::npos) eol = sdp.size();
    std::string_view line = sdp.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol + 1;
    if (line.rfind("a=crypto:", 0) != 0) continue;
    // a=crypto:<tag> <suite> inline:<key||salt>[|lifetime][|MKI:len] [session params]
    const auto s1 = line.find(' ');
    if (s1 == std::string_view::npos) return no("a=crypto: no suite");
    const auto s2 = line.find(' ', s1 + 1);
    if (line.substr(s1 + 1, s2 == std::string_view::npos ? s2 : s2 - s1 - 1) != kSrtpSuite)
      continue;
    if (s2 == std::string_view::npos) return no("a=crypto: no key parameters");
    auto params = line.substr(s2 + 1);
    params = params.substr(0, params.find(' '));
    if (params.rfind("inline:", 0) != 0) return no("a=crypto: inline key expected");
    const auto b64 =
        params.substr(7, params.find('|') == std::string_view::npos ? std::string_view::npos
                                                                    : params.find('|') - 7);
    auto raw = aka::unbase64(b64);
    if (!raw || raw->size() != SrtpKey::size()) {
      if (raw) OPENSSL_cleanse(raw->data(), raw->size());
      return no("a=crypto: the key is not 30 bytes of base64");
    }
    SrtpKey k;
    std::copy(raw->begin(), raw->end(), k.data());
    OPENSSL_cleanse(raw->data(), raw->size());
    return k;
  }
  return no("no a=crypto line with AES_CM_128_HMAC_SHA1_80");
}

std::string media_fingerprint(const SrtpKey& caller, const SrtpKey& callee) {
  EVP_MD_CTX* c = EVP_MD_CTX_new();
  unsigned char md[32];
  unsigned len = 0;
  EVP_DigestInit_ex(c, EVP_sha256(), nullptr);
  EVP_DigestUpdate(c, "oag1 media", 10);
  EVP_DigestUpdate(c, caller.data(), caller.size());
  EVP_DigestUpdate(c, callee.data(), callee.size());
  EVP_DigestFinal_ex(c, md, &len);
  EVP_MD_CTX_free(c);
  return aka::to_hex(aka::ByteView(md, 8));
}

}  // namespace oag::sip
