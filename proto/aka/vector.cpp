#include "proto/aka/vector.hpp"

#include <stdexcept>
#include <string>

#include "proto/aka/gsm.hpp"
#include "proto/aka/milenage.hpp"
#include "proto/aka/xor_test.hpp"

namespace oag::aka {

namespace {

Secret<16> first16(const SecretVec<32>& v) {
  Secret<16> s;
  std::copy_n(v.data(), 16, s.data());
  return s;
}

Secret<32> first32(const SecretVec<32>& v) {
  Secret<32> s;
  std::copy_n(v.data(), 32, s.data());
  return s;
}

// The outputs every algorithm gives for one RAND: f1 (for `sqn`, `amf`), f2, f3, f4, f5.
struct Core {
  Bytes<8> mac_a{};
  SecretVec<32> res;
  Secret<16> ck;
  Secret<16> ik;
  Secret<6> ak;
};

Core run_core(const SubscriberKeys& keys, const Bytes<16>& rand, const Bytes<6>& sqn,
              const Bytes<2>& amf, bool with_mac) {
  Core c;
  switch (keys.algorithm) {
    case Algorithm::milenage: {
      const auto m = milenage::compute(first16(keys.k), first16(keys.opc), rand, sqn, amf,
                                       milenage::kF2345 | (with_mac ? milenage::kF1 : 0u));
      c.mac_a = m.mac_a;
      c.res = SecretVec<32>(m.res.expose());
      c.ck = m.ck;
      c.ik = m.ik;
      c.ak = m.ak;
      break;
    }
    case Algorithm::xor_test: {
      const auto x = xor_test::compute(first16(keys.k), rand, sqn, amf);
      c.mac_a = x.mac_a;
      c.res = SecretVec<32>(x.res.expose());
      c.ck = x.ck;
      c.ik = x.ik;
      c.ak = x.ak;
      break;
    }
    case Algorithm::tuak: {
      const auto topc = first32(keys.opc);
      auto t = tuak::f2345(keys.k, topc, rand, keys.tuak);
      if (with_mac) {
        auto mac = tuak::f1(keys.k, topc, rand, sqn, amf, keys.tuak);
        std::copy_n(mac.begin(), 8, c.mac_a.begin());
      }
      c.res = t.res;
      c.ck = first16(t.ck);
      c.ik = first16(t.ik);
      c.ak = t.ak;
      break;
    }
  }
  return c;
}

// f5* then f1* for SQN_MS with AMF* = 0000 (TS 33.102 §6.3.3).
struct ResyncKeys {
  Secret<6> ak_star;
  Bytes<8> mac_s{};
};

Secret<6> run_f5star(const SubscriberKeys& keys, const Bytes<16>& rand) {
  switch (keys.algorithm) {
    case Algorithm::milenage:
      return milenage::compute(first16(keys.k), first16(keys.opc), rand, {}, {}, milenage::kResync)
          .ak_star;
    case Algorithm::xor_test:
      return xor_test::compute(first16(keys.k), rand, {}, {}).ak;
    case Algorithm::tuak:
      return tuak::f5star(keys.k, first32(keys.opc), rand, keys.tuak.iterations);
  }
  throw std::logic_error("unknown algorithm");
}

Bytes<8> run_f1star(const SubscriberKeys& keys, const Bytes<16>& rand, const Bytes<6>& sqn_ms) {
  const Bytes<2> amf_star{};
  switch (keys.algorithm) {
    case Algorithm::milenage:
      return milenage::compute(first16(keys.k), first16(keys.opc), rand, sqn_ms, amf_star,
                               milenage::kResync)
          .mac_s;
    case Algorithm::xor_test:
      return xor_test::compute(first16(keys.k), rand, sqn_ms, amf_star).mac_s;
    case Algorithm::tuak: {
      auto mac = tuak::f1star(keys.k, first32(keys.opc), rand, sqn_ms, amf_star, keys.tuak);
      Bytes<8> r{};
      std::copy_n(mac.begin(), 8, r.begin());
      return r;
    }
  }
  throw std::logic_error("unknown algorithm");
}

}  // namespace

std::string_view to_string(Algorithm a) noexcept {
  switch (a) {
    case Algorithm::milenage:
      return "milenage";
    case Algorithm::xor_test:
      return "xor";
    case Algorithm::tuak:
      return "tuak";
  }
  return "?";
}

std::optional<Algorithm> parse_algorithm(std::string_view s) noexcept {
  if (s == "milenage") return Algorithm::milenage;
  if (s == "xor") return Algorithm::xor_test;
  if (s == "tuak") return Algorithm::tuak;
  return std::nullopt;
}

SubscriberKeys SubscriberKeys::from_opc(Algorithm a, ByteView k, ByteView opc, tuak::Params p) {
  SubscriberKeys keys;
  keys.algorithm = a;
  if (k.size() > 32) throw std::invalid_argument("K: too long");
  if (opc.size() > 32) throw std::invalid_argument("OPc: too long");
  keys.k = SecretVec<32>(k);
  if (a != Algorithm::xor_test) keys.opc = SecretVec<32>(opc);
  keys.tuak = p;
  keys.validate();
  return keys;
}

SubscriberKeys SubscriberKeys::from_op(Algorithm a, ByteView k, ByteView op, tuak::Params p) {
  if (a == Algorithm::xor_test) return from_opc(a, k, {}, p);
  if (k.size() > 32) throw std::invalid_argument("K: too long");
  if (a == Algorithm::milenage) {
    if (k.size() != 16) throw std::invalid_argument("K: Milenage needs 16 bytes");
    if (op.size() != 16) throw std::invalid_argument("OP: Milenage needs 16 bytes");
    Secret<16> k16, op16;
    std::copy(k.begin(), k.end(), k16.data());
    std::copy(op.begin(), op.end(), op16.data());
    return from_opc(a, k, milenage::compute_opc(k16, op16).expose(), p);
  }
  if (k.size() != 16 && k.size() != 32) throw std::invalid_argument("K: TUAK needs 16 or 32 bytes");
  if (op.size() != 32) throw std::invalid_argument("TOP: TUAK needs 32 bytes");
  Secret<32> top;
  std::copy(op.begin(), op.end(), top.data());
  return from_opc(a, k, tuak::compute_topc(SecretVec<32>(k), top, p.iterations).expose(), p);
}

void SubscriberKeys::validate() const {
  switch (algorithm) {
    case Algorithm::milenage:
      if (k.size() != 16) throw std::invalid_argument("K: Milenage needs 16 bytes");
      if (opc.size() != 16) throw std::invalid_argument("OPc: Milenage needs 16 bytes");
      return;
    case Algorithm::xor_test:
      if (k.size() != 16) throw std::invalid_argument("K: XOR needs 16 bytes");
      return;
    case Algorithm::tuak:
      if (k.size() != 16 && k.size() != 32)
        throw std::invalid_argument("K: TUAK needs 16 or 32 bytes");
      if (opc.size() != 32) throw std::invalid_argument("TOPc: TUAK needs 32 bytes");
      tuak.validate();
      // AUTN carries a 64-bit MAC-A and vectors carry 128-bit CK/IK; c2 needs RES ≤ 128 bits.
      if (tuak.mac_len != 8) throw std::invalid_argument("TUAK MAC length: vectors need 64 bits");
      if (tuak.ck_len != 16 || tuak.ik_len != 16)
        throw std::invalid_argument("TUAK CK/IK length: vectors need 128 bits");
      if (tuak.res_len > 16) throw std::invalid_argument("TUAK RES length: at most 128 bits");
      return;
  }
  throw std::invalid_argument("algorithm: unknown");
}

Bytes<6> Quintet::sqn_xor_ak() const noexcept {
  Bytes<6> r{};
  std::copy_n(autn.begin(), 6, r.begin());
  return r;
}

Quintet generate_quintet(const SubscriberKeys& keys, const Bytes<16>& rand, Sqn sqn,
                         const Bytes<2>& amf) {
  const auto sqn_bytes = sqn.bytes();
  auto c = run_core(keys, rand, sqn_bytes, amf, true);
  Quintet q;
  q.rand = rand;
  q.sqn = sqn;
  for (int i = 0; i < 6; ++i) q.autn[i] = sqn_bytes[i] ^ c.ak.data()[i];
  q.autn[6] = amf[0];
  q.autn[7] = amf[1];
  std::copy(c.mac_a.begin(), c.mac_a.end(), q.autn.begin() + 8);
  q.mac_a = c.mac_a;
  q.xres = c.res;
  q.ck = c.ck;
  q.ik = c.ik;
  q.ak = c.ak;
  return q;
}

Triplet generate_triplet(const SubscriberKeys& keys, const Bytes<16>& rand) {
  Triplet t;
  t.rand = rand;
  if (keys.algorithm == Algorithm::milenage) {
    auto g = gsm_milenage(first16(keys.k), first16(keys.opc), rand);
    t.sres = g.sres;
    t.kc = g.kc;
    return t;
  }
  const auto c = run_core(keys, rand, {}, {}, false);
  t.sres = c2(c.res.expose());
  t.kc = c3(c.ck, c.ik);
  return t;
}

Auts build_auts(const SubscriberKeys& keys, const Bytes<16>& rand, Sqn sqn_ms) {
  const auto ak_star = run_f5star(keys, rand);
  const auto sqn_bytes = sqn_ms.bytes();
  const auto mac_s = run_f1star(keys, rand, sqn_bytes);
  Auts auts{};
  for (int i = 0; i < 6; ++i) auts[i] = sqn_bytes[i] ^ ak_star.data()[i];
  std::copy(mac_s.begin(), mac_s.end(), auts.begin() + 6);
  return auts;
}

std::optional<Sqn> verify_auts(const SubscriberKeys& keys, const Bytes<16>& rand,
                               const Auts& auts) {
  const auto ak_star = run_f5star(keys, rand);
  Bytes<6> sqn_ms{};
  for (int i = 0; i < 6; ++i) sqn_ms[i] = auts[i] ^ ak_star.data()[i];
  const auto mac_s = run_f1star(keys, rand, sqn_ms);
  if (!equal_ct(mac_s, ByteView(auts).subspan(6, 8))) return std::nullopt;
  return Sqn::from_bytes(sqn_ms);
}

}  // namespace oag::aka
