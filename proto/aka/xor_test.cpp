#include "proto/aka/xor_test.hpp"

namespace oag::aka::xor_test {

Result compute(const Secret<16>& k, const Bytes<16>& rand, const Bytes<6>& sqn,
               const Bytes<2>& amf) {
  Result r;
  std::uint8_t* x = r.res.data();
  for (int i = 0; i < 16; ++i) x[i] = k.data()[i] ^ rand[i];
  for (int i = 0; i < 16; ++i) {
    r.ck.data()[i] = x[(i + 1) % 16];
    r.ik.data()[i] = x[(i + 2) % 16];
  }
  for (int i = 0; i < 6; ++i) r.ak.data()[i] = x[3 + i];
  for (int i = 0; i < 6; ++i) {
    r.mac_a[i] = x[i] ^ sqn[i];
    r.mac_s[i] = x[i] ^ sqn[i];
  }
  for (int i = 0; i < 2; ++i) {
    r.mac_a[6 + i] = x[6 + i] ^ amf[i];
    r.mac_s[6 + i] = x[6 + i];
  }
  return r;
}

}  // namespace oag::aka::xor_test
