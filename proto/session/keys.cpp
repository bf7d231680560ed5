#include "proto/session/keys.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <stdexcept>
#include <vector>

#include "proto/aka/hex.hpp"
#include "proto/aka/kdf.hpp"

namespace oag::session {

namespace {

void put_name(std::vector<std::uint8_t>& v, std::string_view s) {
  v.push_back(static_cast<std::uint8_t>(s.size() >> 8));
  v.push_back(static_cast<std::uint8_t>(s.size()));
  v.insert(v.end(), s.begin(), s.end());
}

SrtpKeys export_srtp(const aka::Secret<32>& ssk, std::string_view label) {
  aka::Secret<30> both;
  aka::hkdf(aka::HkdfMode::expand_only, ssk.expose(), {},
            {reinterpret_cast<const std::uint8_t*>(label.data()), label.size()},
            {both.data(), both.size()});
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
  aka::hkdf(aka::HkdfMode::extract_and_expand, ikm, salt, info, {k.ssk.data(), k.ssk.size()});
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
