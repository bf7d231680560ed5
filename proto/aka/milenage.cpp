#include "proto/aka/milenage.hpp"

#include <cstring>

#include "proto/aka/aes.hpp"

namespace oag::aka::milenage {

namespace {

// rot(x, r) of TS 35.206 for r a multiple of 8: a cyclic left rotation by r/8 bytes.
void rot_xor_const(const std::uint8_t* x, unsigned r_bytes, std::uint8_t c, std::uint8_t* out) {
  for (unsigned i = 0; i < 16; ++i) out[i] = x[(i + r_bytes) % 16];
  out[15] ^= c;
}

}  // namespace

Secret<16> compute_opc(const Secret<16>& k, const Secret<16>& op) {
  Secret<16> opc;
  detail::ThreadAes::keyed(k.data()).encrypt(op.data(), opc.data(), 16);
  for (int i = 0; i < 16; ++i) opc.data()[i] ^= op.data()[i];
  return opc;
}

Result compute(const Secret<16>& k, const Secret<16>& opc, const Bytes<16>& rand,
               const Bytes<6>& sqn, const Bytes<2>& amf, unsigned which) {
  const std::uint8_t* o = opc.data();
  std::uint8_t temp[16];
  std::uint8_t x[16];
  for (int i = 0; i < 16; ++i) x[i] = rand[i] ^ o[i];
  auto& aes = detail::ThreadAes::keyed(k.data());
  aes.encrypt(x, temp, 16);

  // The later blocks depend only on TEMP, so they go through AES in one call (pipelined).
  // Block order: OUT1 (f1/f1*), OUT2 (f2/f5), OUT3 (f3), OUT4 (f4), OUT5 (f5*).
  std::uint8_t in[5 * 16];
  std::uint8_t out[5 * 16];
  std::size_t n = 0;
  int pos1 = -1, pos2 = -1, pos5 = -1;
  if (which & (kF1 | kResync)) {
    std::uint8_t in1[16];
    std::memcpy(in1, sqn.data(), 6);
    std::memcpy(in1 + 6, amf.data(), 2);
    std::memcpy(in1 + 8, in1, 8);
    for (int i = 0; i < 16; ++i) in1[i] ^= o[i];
    // OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1 = 64) ⊕ c1 = 0) ⊕ OPc
    rot_xor_const(in1, 8, 0, in + 16 * n);
    for (int i = 0; i < 16; ++i) in[16 * n + i] ^= temp[i];
    pos1 = static_cast<int>(n++);
  }
  std::uint8_t t[16];
  for (int i = 0; i < 16; ++i) t[i] = temp[i] ^ o[i];
  if (which & kF2345) {
    pos2 = static_cast<int>(n);
    rot_xor_const(t, 0, 1, in + 16 * n++);  // OUT2: r2 = 0, c2 = 1
    rot_xor_const(t, 4, 2, in + 16 * n++);  // OUT3: r3 = 32, c3 = 2
    rot_xor_const(t, 8, 4, in + 16 * n++);  // OUT4: r4 = 64, c4 = 4
  }
  if (which & kResync) {
    pos5 = static_cast<int>(n);
    rot_xor_const(t, 12, 8, in + 16 * n++);  // OUT5: r5 = 96, c5 = 8
  }
  aes.encrypt(in, out, 16 * n);
  for (std::size_t b = 0; b < n; ++b)
    for (int i = 0; i < 16; ++i) out[16 * b + i] ^= o[i];

  Result r;
  if (pos1 >= 0) {
    const std::uint8_t* o1 = out + 16 * pos1;
    if (which & kF1) std::memcpy(r.mac_a.data(), o1, 8);
    if (which & kResync) std::memcpy(r.mac_s.data(), o1 + 8, 8);
  }
  if (pos2 >= 0) {
    const std::uint8_t* o2 = out + 16 * pos2;
    std::memcpy(r.ak.data(), o2, 6);
    std::memcpy(r.res.data(), o2 + 8, 8);
    std::memcpy(r.ck.data(), o2 + 16, 16);
    std::memcpy(r.ik.data(), o2 + 32, 16);
  }
  if (pos5 >= 0) std::memcpy(r.ak_star.data(), out + 16 * pos5, 6);

  OPENSSL_cleanse(temp, sizeof temp);
  OPENSSL_cleanse(x, sizeof x);
  OPENSSL_cleanse(t, sizeof t);
  OPENSSL_cleanse(in, sizeof in);
  OPENSSL_cleanse(out, sizeof out);
  return r;
}

}  // namespace oag::aka::milenage
