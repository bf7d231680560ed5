#include "proto/aka/tuak.hpp"

#include <array>
#include <cstring>
#include <stdexcept>

#include "proto/aka/keccak.hpp"

namespace oag::aka::tuak {

namespace {

constexpr char kAlgoName[] = "TUAK1.0";

// The 1600-bit INOUT of TS 35.231 §6. The spec numbers bits so that every field lands in the
// Keccak state with its bytes reversed; lanes are little-endian 64-bit words (FIPS 202).
class State {
 public:
  State() { lanes_.fill(0); }
  ~State() { OPENSSL_cleanse(lanes_.data(), sizeof lanes_); }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void push(const std::uint8_t* field, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) set(pos_++, field[n - 1 - i]);
  }
  void push_byte(std::uint8_t b) { set(pos_++, b); }
  void skip(std::size_t n) { pos_ += n; }
  void permute(unsigned iterations) {
    for (unsigned i = 0; i < iterations; ++i) keccak_f1600(lanes_);
  }
  // Output field at byte offset `at`, read back with its bytes reversed.
  void pull(std::size_t at, std::uint8_t* out, std::size_t n) const {
    for (std::size_t i = 0; i < n; ++i) out[i] = get(at + n - 1 - i);
  }

 private:
  void set(std::size_t i, std::uint8_t b) {
    lanes_[i / 8] |= static_cast<std::uint64_t>(b) << (8 * (i % 8));
  }
  std::uint8_t get(std::size_t i) const {
    return static_cast<std::uint8_t>(lanes_[i / 8] >> (8 * (i % 8)));
  }
  std::array<std::uint64_t, 25> lanes_;
  std::size_t pos_ = 0;
};

void check_key(const Key& k) {
  if (k.size() != 16 && k.size() != 32)
    throw std::invalid_argument("TUAK: K must be 16 or 32 bytes");
}

// Fills INOUT with TOP(c), INSTANCE, ALGONAME, RAND, AMF, SQN, K and the padding, then permutes.
void core(State& s, const std::uint8_t* top, std::uint8_t instance, const std::uint8_t* rand,
          const std::uint8_t* amf, const std::uint8_t* sqn, const Key& k, unsigned iterations) {
  check_key(k);
  if (iterations == 0) throw std::invalid_argument("TUAK: iterations must be at least 1");
  static const std::uint8_t zero[16] = {};
  s.push(top, 32);
  s.push_byte(instance | (k.size() == 32 ? 0x01 : 0x00));
  s.push(reinterpret_cast<const std::uint8_t*>(kAlgoName), sizeof kAlgoName - 1);
  s.push(rand ? rand : zero, 16);
  s.push(amf ? amf : zero, 2);
  s.push(sqn ? sqn : zero, 6);
  s.push(k.data(), k.size());
  s.skip(32 - k.size());
  s.push_byte(0x1f);  // Keccak padding and the fixed bits of TS 35.231 §6
  s.skip(38);
  s.push_byte(0x80);
  s.permute(iterations);
}

std::uint8_t len_bits(std::size_t len, const char* what) {
  switch (len) {
    case 8:
      return 0x08;
    case 16:
      return 0x10;
    case 32:
      return 0x20;
    default:
      throw std::invalid_argument(std::string("TUAK: bad length of ") + what);
  }
}

std::vector<std::uint8_t> mac(std::uint8_t base, const Key& k, const Secret<32>& topc,
                              const Bytes<16>& rand, const Bytes<6>& sqn, const Bytes<2>& amf,
                              const Params& p) {
  p.validate();
  State s;
  core(s, topc.data(), base | len_bits(p.mac_len, "MAC"), rand.data(), amf.data(), sqn.data(), k,
       p.iterations);
  std::vector<std::uint8_t> out(p.mac_len);
  s.pull(0, out.data(), out.size());
  return out;
}

}  // namespace

void Params::validate() const {
  len_bits(mac_len, "MAC");
  if (res_len != 4) len_bits(res_len, "RES");
  if (ck_len != 16 && ck_len != 32) throw std::invalid_argument("TUAK: bad length of CK");
  if (ik_len != 16 && ik_len != 32) throw std::invalid_argument("TUAK: bad length of IK");
  if (iterations == 0) throw std::invalid_argument("TUAK: iterations must be at least 1");
}

Secret<32> compute_topc(const Key& k, const Secret<32>& top, unsigned iterations) {
  State s;
  core(s, top.data(), 0x00, nullptr, nullptr, nullptr, k, iterations);
  Secret<32> topc;
  s.pull(0, topc.data(), 32);
  return topc;
}

std::vector<std::uint8_t> f1(const Key& k, const Secret<32>& topc, const Bytes<16>& rand,
                             const Bytes<6>& sqn, const Bytes<2>& amf, const Params& p) {
  return mac(0x00, k, topc, rand, sqn, amf, p);
}

std::vector<std::uint8_t> f1star(const Key& k, const Secret<32>& topc, const Bytes<16>& rand,
                                 const Bytes<6>& sqn, const Bytes<2>& amf, const Params& p) {
  return mac(0x80, k, topc, rand, sqn, amf, p);
}

F2345 f2345(const Key& k, const Secret<32>& topc, const Bytes<16>& rand, const Params& p) {
  p.validate();
  std::uint8_t instance = 0x40;
  if (p.res_len != 4) instance |= len_bits(p.res_len, "RES");
  if (p.ck_len == 32) instance |= 0x04;
  if (p.ik_len == 32) instance |= 0x02;
  State s;
  core(s, topc.data(), instance, rand.data(), nullptr, nullptr, k, p.iterations);
  F2345 r;
  r.res.resize(p.res_len);
  r.ck.resize(p.ck_len);
  r.ik.resize(p.ik_len);
  s.pull(0, r.res.data(), p.res_len);
  s.pull(32, r.ck.data(), p.ck_len);
  s.pull(64, r.ik.data(), p.ik_len);
  s.pull(96, r.ak.data(), 6);
  return r;
}

Secret<6> f5star(const Key& k, const Secret<32>& topc, const Bytes<16>& rand, unsigned iterations) {
  State s;
  core(s, topc.data(), 0xc0, rand.data(), nullptr, nullptr, k, iterations);
  Secret<6> ak;
  s.pull(96, ak.data(), 6);
  return ak;
}

}  // namespace oag::aka::tuak
