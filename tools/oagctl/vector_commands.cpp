#include "tools/oagctl/commands.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "proto/aka/gsm.hpp"
#include "proto/aka/hex.hpp"
#include "proto/aka/kdf.hpp"
#include "proto/aka/milenage.hpp"
#include "proto/aka/vector.hpp"
#include "tools/oagctl/args.hpp"

namespace oag::tools {

namespace {

using aka::to_hex;
using Json = nlohmann::ordered_json;

struct KeyOptions {
  std::string algo = "milenage";
  std::string k, op, opc, rand;
  unsigned mac_bits = 64, res_bits = 64, ck_bits = 128, ik_bits = 128, iterations = 1;
};

void add_key_options(CLI::App* cmd, KeyOptions& o) {
  cmd->add_option("--algo", o.algo, "Algorithm: milenage, xor (TS 34.108 test SIMs) or tuak")
      ->check(CLI::IsMember({"milenage", "xor", "tuak"}))
      ->capture_default_str();
  cmd->add_option("--k", o.k, "Subscriber key K, hex (128 bits; 128 or 256 for tuak)")->required();
  auto* op = cmd->add_option("--op", o.op, "Operator variant OP (TOP for tuak), hex");
  auto* opc = cmd->add_option("--opc", o.opc, "OPc (TOPc for tuak), hex");
  op->excludes(opc);
  cmd->add_option("--rand", o.rand, "RAND, 32 hex digits")->required();
  cmd->add_option("--tuak-mac-bits", o.mac_bits, "TUAK MAC-A/MAC-S length: 64, 128 or 256")
      ->check(CLI::IsMember({64u, 128u, 256u}))
      ->capture_default_str();
  cmd->add_option("--tuak-res-bits", o.res_bits, "TUAK RES length: 32, 64, 128 or 256")
      ->check(CLI::IsMember({32u, 64u, 128u, 256u}))
      ->capture_default_str();
  cmd->add_option("--tuak-ck-bits", o.ck_bits, "TUAK CK length: 128 or 256")
      ->check(CLI::IsMember({128u, 256u}))
      ->capture_default_str();
  cmd->add_option("--tuak-ik-bits", o.ik_bits, "TUAK IK length: 128 or 256")
      ->check(CLI::IsMember({128u, 256u}))
      ->capture_default_str();
  cmd->add_option("--tuak-iterations", o.iterations, "TUAK Keccak iterations")
      ->check(CLI::Range(1u, 255u))
      ->capture_default_str();
}

aka::tuak::Params tuak_params(const KeyOptions& o) {
  aka::tuak::Params p;
  p.mac_len = o.mac_bits / 8;
  p.res_len = o.res_bits / 8;
  p.ck_len = o.ck_bits / 8;
  p.ik_len = o.ik_bits / 8;
  p.iterations = o.iterations;
  return p;
}

// Keys for the algorithm. TUAK keys are built without the vector-length checks, which only
// apply to vectors the gateway issues; the lab tool computes every length the spec allows.
aka::SubscriberKeys make_keys(const KeyOptions& o) {
  const auto algo = *aka::parse_algorithm(o.algo);
  aka::SubscriberKeys keys;
  keys.algorithm = algo;
  if (algo == aka::Algorithm::xor_test) {
    if (!o.op.empty() || !o.opc.empty()) throw UsageError("--op/--opc: not used by --algo xor");
    keys.k = aka::SecretVec<32>(parse_hex_arg("--k", o.k, {16}));
    return keys;
  }
  if (o.op.empty() && o.opc.empty())
    throw UsageError("--op or --opc: one is required for --algo " + o.algo);
  if (algo == aka::Algorithm::milenage) {
    const auto k = parse_hex_arg("--k", o.k, {16});
    return o.op.empty()
               ? aka::SubscriberKeys::from_opc(algo, k, parse_hex_arg("--opc", o.opc, {16}))
               : aka::SubscriberKeys::from_op(algo, k, parse_hex_arg("--op", o.op, {16}));
  }
  keys.k = aka::SecretVec<32>(parse_hex_arg("--k", o.k, {16, 32}));
  keys.tuak = tuak_params(o);
  if (o.op.empty()) {
    keys.opc = aka::SecretVec<32>(parse_hex_arg("--opc", o.opc, {32}));
  } else {
    const auto top = aka::Secret<32>(parse_hex_fixed<32>("--op", o.op));
    keys.opc = aka::SecretVec<32>(aka::tuak::compute_topc(keys.k, top, o.iterations).expose());
  }
  return keys;
}

Json compute_tuak(const aka::SubscriberKeys& keys, const aka::Bytes<16>& rand, aka::Sqn sqn,
                  const aka::Bytes<2>& amf) {
  aka::Secret<32> topc;
  std::copy_n(keys.opc.data(), 32, topc.data());
  const auto sqn_bytes = sqn.bytes();
  const auto mac_a = aka::tuak::f1(keys.k, topc, rand, sqn_bytes, amf, keys.tuak);
  const auto mac_s = aka::tuak::f1star(keys.k, topc, rand, sqn_bytes, amf, keys.tuak);
  const auto r = aka::tuak::f2345(keys.k, topc, rand, keys.tuak);
  const auto ak_star = aka::tuak::f5star(keys.k, topc, rand, keys.tuak.iterations);
  Json j;
  if (mac_a.size() == 8) {
    aka::Bytes<16> autn{};
    for (int i = 0; i < 6; ++i) autn[i] = sqn_bytes[i] ^ r.ak.data()[i];
    autn[6] = amf[0];
    autn[7] = amf[1];
    std::copy(mac_a.begin(), mac_a.end(), autn.begin() + 8);
    j["autn"] = to_hex(autn);
  } else {
    j["autn"] = nullptr;  // AUTN has room for a 64-bit MAC-A only
  }
  j["xres"] = to_hex(r.res.expose());
  j["ck"] = to_hex(r.ck.expose());
  j["ik"] = to_hex(r.ik.expose());
  j["ak"] = to_hex(r.ak.expose());
  j["mac_a"] = to_hex(mac_a);
  j["mac_s"] = to_hex(mac_s);
  j["ak_star"] = to_hex(ak_star.expose());
  if (r.res.size() <= 16 && r.ck.size() == 16 && r.ik.size() == 16) {
    aka::Secret<16> ck, ik;
    std::copy_n(r.ck.data(), 16, ck.data());
    std::copy_n(r.ik.data(), 16, ik.data());
    j["sres"] = to_hex(aka::c2(r.res.expose()).expose());
    j["kc"] = to_hex(aka::c3(ck, ik).expose());
  }
  return j;
}

void put_quintet(Json& j, const aka::Quintet& q) {
  j["autn"] = to_hex(q.autn);
  j["xres"] = to_hex(q.xres.expose());
  j["ck"] = to_hex(q.ck.expose());
  j["ik"] = to_hex(q.ik.expose());
  j["ak"] = to_hex(q.ak.expose());
  j["mac_a"] = to_hex(q.mac_a);
}

Json compute(const KeyOptions& o, const std::string& sqn_arg, const std::string& amf_arg,
             unsigned ind_len, const std::string& snn) {
  const auto rand = parse_hex_fixed<16>("--rand", o.rand);
  const auto sqn = parse_sqn_arg("--sqn", sqn_arg);
  const auto amf = parse_hex_fixed<2>("--amf", amf_arg);
  const auto keys = make_keys(o);

  Json j;
  j["algo"] = o.algo;
  j["rand"] = to_hex(rand);
  j["sqn"] = to_hex(sqn.bytes());
  j["seq"] = sqn.seq(ind_len);
  j["ind"] = sqn.ind(ind_len);
  j["amf"] = to_hex(amf);
  if (keys.algorithm == aka::Algorithm::tuak) {
    j.update(compute_tuak(keys, rand, sqn, amf));
    if (snn.empty()) return j;
    if (keys.tuak.mac_len != 8 || keys.tuak.ck_len != 16 || keys.tuak.ik_len != 16)
      throw UsageError("--snn: needs a 64-bit MAC and 128-bit CK/IK (--tuak-*-bits)");
  }
  const auto q = aka::generate_quintet(keys, rand, sqn, amf);
  if (keys.algorithm == aka::Algorithm::milenage) {
    aka::Secret<16> k, opc;
    std::copy_n(keys.k.data(), 16, k.data());
    std::copy_n(keys.opc.data(), 16, opc.data());
    const auto m = aka::milenage::compute(k, opc, rand, sqn.bytes(), amf, aka::milenage::kResync);
    put_quintet(j, q);
    j["mac_s"] = to_hex(m.mac_s);
    j["ak_star"] = to_hex(m.ak_star.expose());
  } else if (keys.algorithm == aka::Algorithm::xor_test) {
    put_quintet(j, q);
    j["mac_s"] = to_hex(q.mac_a);          // f1* is f1 for XOR
    j["ak_star"] = to_hex(q.ak.expose());  // f5* is f5 for XOR
  }
  if (keys.algorithm != aka::Algorithm::tuak) {
    const auto t = aka::generate_triplet(keys, rand);
    j["sres"] = to_hex(t.sres.expose());
    j["kc"] = to_hex(t.kc.expose());
  }
  if (!snn.empty()) {
    const auto p = aka::ck_ik_prime(q.ck, q.ik, snn, q.sqn_xor_ak());
    const auto xres_star = aka::res_star(q.ck, q.ik, snn, rand, q.xres.expose());
    const auto kausf = aka::kausf(q.ck, q.ik, snn, q.sqn_xor_ak());
    j["snn"] = snn;
    j["ck_prime"] = to_hex(p.ck_prime.expose());
    j["ik_prime"] = to_hex(p.ik_prime.expose());
    j["kausf"] = to_hex(kausf.expose());
    j["xres_star"] = to_hex(xres_star.expose());
    j["hxres_star"] = to_hex(aka::hxres_star(rand, xres_star));
    j["kseaf"] = to_hex(aka::kseaf(kausf, snn).expose());
  }
  return j;
}

}  // namespace

void add_vector_commands(CLI::App& app) {
  auto* vector =
      app.add_subcommand("vector", "Compute vectors like a lab tool (nothing is stored)");
  vector->require_subcommand(1);

  struct ComputeArgs {
    KeyOptions keys;
    std::string sqn, amf, snn;
    unsigned ind_len = aka::kDefaultIndLen;
  };
  auto ca = std::make_shared<ComputeArgs>();
  auto* compute_cmd = vector->add_subcommand("compute",
                                             "Print one vector as JSON: rand, autn, xres, ck, ik, "
                                             "ak, mac_a, sres, kc (+ 5G keys with --snn)");
  add_key_options(compute_cmd, ca->keys);
  compute_cmd->add_option("--sqn", ca->sqn, "SQN: 12 hex digits, 0x-prefixed hex, or decimal")
      ->required();
  compute_cmd->add_option("--amf", ca->amf, "AMF, 4 hex digits")->required();
  compute_cmd->add_option("--ind-len", ca->ind_len, "IND length in bits, for the seq/ind split")
      ->check(CLI::Range(0u, aka::kMaxIndLen))
      ->capture_default_str();
  compute_cmd->add_option(
      "--snn", ca->snn,
      "Serving (or access) network name: adds ck_prime, ik_prime, kausf, xres_star, "
      "hxres_star, kseaf");
  compute_cmd->callback([ca] {
    std::cout << compute(ca->keys, ca->sqn, ca->amf, ca->ind_len, ca->snn).dump(2) << '\n';
  });

  struct ResyncArgs {
    KeyOptions keys;
    std::string auts;
    unsigned ind_len = aka::kDefaultIndLen;
  };
  auto ra = std::make_shared<ResyncArgs>();
  auto* resync =
      vector->add_subcommand("resync", "Verify AUTS (MAC-S) and print the SQN_MS it carries");
  add_key_options(resync, ra->keys);
  resync->add_option("--auts", ra->auts, "AUTS, 28 hex digits")->required();
  resync->add_option("--ind-len", ra->ind_len, "IND length in bits, for the seq/ind split")
      ->check(CLI::Range(0u, aka::kMaxIndLen))
      ->capture_default_str();
  resync->callback([ra] {
    const auto rand = parse_hex_fixed<16>("--rand", ra->keys.rand);
    const auto auts = parse_hex_fixed<14>("--auts", ra->auts);
    auto keys = make_keys(ra->keys);
    const auto sqn_ms = aka::verify_auts(keys, rand, auts);
    if (!sqn_ms)
      throw CommandFailed(
          "MAC-S of --auts does not verify (wrong K/OP(c) or RAND, or AUTS damaged)");
    Json j;
    j["sqn_ms"] = to_hex(sqn_ms->bytes());
    j["seq"] = sqn_ms->seq(ra->ind_len);
    j["ind"] = sqn_ms->ind(ra->ind_len);
    std::cout << j.dump(2) << '\n';
  });
}

}  // namespace oag::tools
