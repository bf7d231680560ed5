#include "proto/aka/gsm.hpp"

#include <stdexcept>

#include "proto/aka/milenage.hpp"

namespace oag::aka {

Secret<4> c2(ByteView res) {
  if (res.size() < 4 || res.size() > 16) throw std::invalid_argument("c2: RES must be 4..16 bytes");
  Secret<4> sres;
  for (std::size_t i = 0; i < res.size(); ++i) sres.data()[i % 4] ^= res[i];
  return sres;
}

Secret<8> c3(const Secret<16>& ck, const Secret<16>& ik) {
  Secret<8> kc;
  for (int i = 0; i < 8; ++i)
    kc.data()[i] = ck.data()[i] ^ ck.data()[i + 8] ^ ik.data()[i] ^ ik.data()[i + 8];
  return kc;
}

GsmResult gsm_milenage(const Secret<16>& k, const Secret<16>& opc, const Bytes<16>& rand) {
  const auto m = milenage::compute(k, opc, rand, Bytes<6>{}, Bytes<2>{}, milenage::kF2345);
  return GsmResult{c2(m.res.expose()), c3(m.ck, m.ik)};
}

}  // namespace oag::aka
