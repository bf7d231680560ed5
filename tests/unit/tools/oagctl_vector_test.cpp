// oagctl vector compute|resync as a real process: agrees with every shipped vector, and every
// bad argument gets exit status 2 and a message naming it.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "proto/aka/hex.hpp"
#include "proto/aka/vector.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using nlohmann::json;

namespace {

struct Run : test::RunResult {
  json j() const { return json::parse(out); }
};

Run oagctl(const std::string& args) {
  return {test::run_command(std::string(OAGCTL_PATH) + " " + args)};
}

std::string s(const json& j, const char* key) {
  return j.at(key).get<std::string>();
}

}  // namespace

TEST_CASE("vector compute agrees with all 20 Milenage sets, from OP", "[oagctl]") {
  const auto doc = test::load_vectors("milenage_ts35208.json");
  for (const auto& t : doc.at("test_sets")) {
    INFO("test set " << t.at("test_set").get<int>());
    const auto r =
        oagctl("vector compute --algo milenage --k " + s(t, "K") + " --op " + s(t, "OP") +
               " --rand " + s(t, "RAND") + " --sqn " + s(t, "SQN") + " --amf " + s(t, "AMF"));
    REQUIRE(r.status == 0);
    const auto j = r.j();
    CHECK(s(j, "mac_a") == s(t, "f1"));
    CHECK(s(j, "mac_s") == s(t, "f1star"));
    CHECK(s(j, "xres") == s(t, "f2"));
    CHECK(s(j, "ck") == s(t, "f3"));
    CHECK(s(j, "ik") == s(t, "f4"));
    CHECK(s(j, "ak") == s(t, "f5"));
    CHECK(s(j, "ak_star") == s(t, "f5star"));
    CHECK(s(j, "autn").substr(12) == s(t, "AMF") + s(t, "f1"));
    CHECK(j.contains("sres"));
    CHECK(j.contains("kc"));
  }
}

TEST_CASE("vector compute agrees with all 19 GSM-Milenage sets, from OPc", "[oagctl]") {
  const auto doc = test::load_vectors("gsm_milenage_ts55205.json");
  for (const auto& t : doc.at("test_sets")) {
    INFO("test set " << t.at("test_set").get<int>());
    const auto r = oagctl("vector compute --k " + s(t, "K") + " --opc " + s(t, "OPc") + " --rand " +
                          s(t, "RAND") + " --sqn 1 --amf 8000");
    REQUIRE(r.status == 0);
    CHECK(s(r.j(), "sres") == s(t, "SRES1"));
    CHECK(s(r.j(), "kc") == s(t, "Kc"));
  }
}

TEST_CASE("vector compute agrees with the 6 TUAK sets at their lengths", "[oagctl]") {
  const auto doc = test::load_vectors("tuak_ts35233.json");
  for (const auto& t : doc.at("test_sets")) {
    INFO(s(t, "source"));
    const auto bits = [&](const char* f) { return std::to_string(s(t, f).size() * 4); };
    const auto r =
        oagctl("vector compute --algo tuak --k " + s(t, "k") + " --op " + s(t, "top") + " --rand " +
               s(t, "rand") + " --sqn " + s(t, "sqn") + " --amf " + s(t, "amf") +
               " --tuak-mac-bits " + bits("f1") + " --tuak-res-bits " + bits("f2") +
               " --tuak-ck-bits " + bits("f3") + " --tuak-ik-bits " + bits("f4") +
               " --tuak-iterations " + std::to_string(t.at("keccak_iterations").get<int>()));
    REQUIRE(r.status == 0);
    const auto j = r.j();
    CHECK(s(j, "mac_a") == s(t, "f1"));
    CHECK(s(j, "mac_s") == s(t, "f1star"));
    CHECK(s(j, "xres") == s(t, "f2"));
    CHECK(s(j, "ck") == s(t, "f3"));
    CHECK(s(j, "ik") == s(t, "f4"));
    CHECK(s(j, "ak") == s(t, "f5"));
    CHECK(s(j, "ak_star") == s(t, "f5star"));
  }
}

TEST_CASE("vector compute --snn agrees with the 5G examples and RFC 5448 cases 1-2", "[oagctl]") {
  const auto other = test::load_vectors("other_vectors.json");
  for (const auto& e : other.at("5g_aka_examples")) {
    const auto r = oagctl("vector compute --k " + s(e, "K") + " --opc " + s(e, "OPc") + " --rand " +
                          s(e, "RAND") + " --sqn " + s(e, "SQN") + " --amf " + s(e, "AMF") +
                          " --snn '" + s(e, "serving_network_name") + "'");
    REQUIRE(r.status == 0);
    const auto j = r.j();
    CHECK(s(j, "autn") == s(e, "AUTN"));
    CHECK(s(j, "xres_star") == s(e, "XRES_star"));
    CHECK(s(j, "hxres_star") == s(e, "HXRES_star"));
    CHECK(s(j, "kausf") == s(e, "KAUSF"));
    CHECK(s(j, "kseaf") == s(e, "KSEAF"));
  }
  const auto& cases = other.at("rfc5448_appendixC_eap_aka_prime").at("cases");
  for (int i = 0; i < 2; ++i) {
    const auto& c = cases.at(i);
    const auto r = oagctl(
        "vector compute --k 5122250214c33e723a5dd523fc145fc0 --opc 981d464c7c52eb6e5036234984ad0bcf"
        " --rand " +
        s(c, "RAND") + " --sqn 16f3b3f70fc2 --amf c3ab --snn " + s(c, "network_name"));
    REQUIRE(r.status == 0);
    CHECK(s(r.j(), "autn") == s(c, "AUTN"));
    CHECK(s(r.j(), "ck_prime") == s(c, "CK_prime"));
    CHECK(s(r.j(), "ik_prime") == s(c, "IK_prime"));
  }
}

TEST_CASE("vector compute agrees with the XOR example with SQN in decimal and hex", "[oagctl]") {
  const auto t = test::load_vectors("other_vectors.json").at("xor_ts34108_example");
  for (const char* sqn : {"1", "0x1", "000000000001"}) {
    const auto r = oagctl("vector compute --algo xor --k " + s(t, "K") + " --rand " + s(t, "RAND") +
                          " --sqn " + sqn + " --amf " + s(t, "AMF"));
    REQUIRE(r.status == 0);
    const auto j = r.j();
    CHECK(s(j, "autn") == s(t, "AUTN"));
    CHECK(s(j, "xres") == s(t, "RES"));
    CHECK(s(j, "sres") == s(t, "SRES_c2"));
    CHECK(s(j, "kc") == s(t, "Kc_c3"));
  }
  const auto r = oagctl(
      "vector compute --k 465b5ce8b199b49faa5f0a2ee238a6bc --opc cd63cb71954a9f4e48a5994e37a02baf "
      "--rand 23553cbe9637a89d218ae64dae47bf35 --sqn 1000 --amf 8000 --ind-len 5");
  REQUIRE(r.status == 0);
  CHECK(r.j().at("seq") == 31);  // 1000 = 31 << 5 | 8
  CHECK(r.j().at("ind") == 8);
}

TEST_CASE("vector resync recovers SQN_MS and refuses a bad MAC-S with exit 1", "[oagctl]") {
  const auto keys = aka::SubscriberKeys::from_opc(aka::Algorithm::milenage,
                                                  test::unhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
                                                  test::unhex("cd63cb71954a9f4e48a5994e37a02baf"));
  const auto rand = test::unhex_fixed<16>("23553cbe9637a89d218ae64dae47bf35");
  auto auts = aka::build_auts(keys, rand, aka::Sqn{0x0000000012e5});
  const std::string base =
      "vector resync --k 465b5ce8b199b49faa5f0a2ee238a6bc --opc cd63cb71954a9f4e48a5994e37a02baf "
      "--rand 23553cbe9637a89d218ae64dae47bf35 --auts ";
  auto r = oagctl(base + aka::to_hex(auts));
  REQUIRE(r.status == 0);
  CHECK(s(r.j(), "sqn_ms") == "0000000012e5");
  auts[13] ^= 1;
  r = oagctl(base + aka::to_hex(auts));
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("MAC-S") != std::string::npos);
}

TEST_CASE("bad arguments: exit 2 and the message names the argument", "[oagctl]") {
  const std::string k = " --k 465b5ce8b199b49faa5f0a2ee238a6bc";
  const std::string opc = " --opc cd63cb71954a9f4e48a5994e37a02baf";
  const std::string rand = " --rand 23553cbe9637a89d218ae64dae47bf35";
  const std::string rest = " --sqn 1 --amf 8000";
  struct Case {
    std::string args;
    std::string names;
  };
  const std::vector<Case> cases = {
      {"vector compute --k zz5b5ce8b199b49faa5f0a2ee238a6bc" + opc + rand + rest, "--k"},
      {"vector compute --k 465b" + opc + rand + rest, "--k"},
      {"vector compute" + k + opc + " --rand 2355" + rest, "--rand"},
      {"vector compute" + k + " --opc cd63cb71954a9f4e48a5994e37a02bafff" + rand + rest, "--opc"},
      {"vector compute" + opc + rand + rest, "--k"},
      {"vector compute" + k + opc + rest, "--rand"},
      {"vector compute" + k + opc + rand + " --amf 8000", "--sqn"},
      {"vector compute" + k + opc + rand + " --sqn 1", "--amf"},
      {"vector compute" + k + opc + rand + " --sqn 1 --amf 80", "--amf"},
      {"vector compute" + k + opc + rand + " --sqn 12ab --amf 8000", "--sqn"},
      {"vector compute" + k + opc + rand + " --sqn 0x1000000000000 --amf 8000", "--sqn"},
      {"vector compute" + k + rand + rest, "--op"},
      {"vector compute" + k + opc + " --op cdc202d5123e20f62b6d676ac72cb318" + rand + rest, "--op"},
      {"vector compute --algo comp128" + k + opc + rand + rest, "--algo"},
      {"vector compute --algo xor" + k + opc + rand + rest, "--op"},
      {"vector compute --algo tuak" + k + opc + rand + rest, "--opc"},
      {"vector compute" + k + opc + rand + rest + " --ind-len 11", "--ind-len"},
      {"vector resync" + k + opc + rand + " --auts 00", "--auts"},
      {"vector frobnicate", "frobnicate"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    const auto r = oagctl(c.args);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err.find(c.names) != std::string::npos);
  }
  CHECK(oagctl("vector compute --help").status == 0);
}
