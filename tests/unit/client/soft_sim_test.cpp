#include <catch2/catch.hpp>

#include <fstream>

#include "client/soft_sim.hpp"
#include "proto/aka/hex.hpp"
#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;

namespace {
const std::string kK = "465b5ce8b199b49faa5f0a2ee238a6bc", kOp = "cdc202d5123e20f62b6d676ac72cb318";
aka::SubscriberKeys keys(const std::string& k = kK) {
  return aka::SubscriberKeys::from_op(aka::Algorithm::milenage, test::unhex(k), test::unhex(kOp));
}
aka::Quintet quintet(std::uint64_t seq, std::uint8_t r) {
  aka::Bytes<16> rand{};
  rand.fill(r);
  return aka::generate_quintet(keys(), rand, aka::Sqn::from_seq_ind(seq, 0, 5), {0x80, 0x00});
}
std::string write(const test::TempDir& d, const std::string& name, const std::string& text) {
  std::ofstream(d.file(name)) << text;
  return d.file(name);
}
}  // namespace

TEST_CASE("SoftSim answers GSM and AKA like the home network computes them", "[client]") {
  test::TempDir d;
  client::SoftSim sim(keys(), "001010000000001", d.file("s.state"));
  const auto t = aka::generate_triplet(keys(), aka::Bytes<16>{7});
  const auto g = sim.run_gsm(aka::Bytes<16>{7});
  CHECK(g.sres == t.sres);
  CHECK(g.kc == t.kc);
  const auto q = quintet(1, 1);
  const auto out = sim.run_aka(q.rand, q.autn);
  REQUIRE(std::holds_alternative<aka::AkaSuccess>(out));
  CHECK(std::get<aka::AkaSuccess>(out).res == q.xres);
  CHECK(std::get<aka::AkaSuccess>(out).ck == q.ck);
  // Another K: MAC failure, and nothing is recorded.
  client::SoftSim other(keys("000102030405060708090a0b0c0d0e0f"), "1", d.file("o.state"));
  CHECK(std::holds_alternative<aka::AkaMacFailure>(other.run_aka(q.rand, q.autn)));
  CHECK(!std::filesystem::exists(d.file("o.state")));
}

TEST_CASE("SoftSim keeps replay protection across a restart", "[client]") {
  test::TempDir d;
  const auto q = quintet(5, 2);
  {
    client::SoftSim sim(keys(), "1", d.file("s.state"));
    REQUIRE(std::holds_alternative<aka::AkaSuccess>(sim.run_aka(q.rand, q.autn)));
    sim.remember(q.rand);
  }
  client::SoftSim again(keys(), "1", d.file("s.state"));
  CHECK(again.sqn_state().seq_ms()[0] == 5);
  CHECK(again.seen(q.rand));
  CHECK(!again.seen(aka::Bytes<16>{9}));
  // The same AUTN again: a sync failure whose AUTS the home network verifies to SQN_MS = 5.
  const auto out = again.run_aka(q.rand, q.autn);
  REQUIRE(std::holds_alternative<aka::AkaSyncFailure>(out));
  const auto sqn_ms = aka::verify_auts(keys(), q.rand, std::get<aka::AkaSyncFailure>(out).auts);
  REQUIRE(sqn_ms);
  CHECK(sqn_ms->seq(5) == 5);
  // A later one is accepted.
  const auto q2 = quintet(6, 3);
  CHECK(std::holds_alternative<aka::AkaSuccess>(again.run_aka(q2.rand, q2.autn)));
}

TEST_CASE("SoftSim replay cache: appended, compacted to the newest RANDs", "[client]") {
  test::TempDir d;
  constexpr auto n = client::SoftSim::kRememberedRands;
  const auto rand_of = [](std::size_t i) {
    aka::Bytes<16> r{};
    for (int b = 0; b < 8; ++b) r[b] = static_cast<std::uint8_t>(i >> (8 * b));
    return r;
  };
  {
    client::SoftSim sim(keys(), "1", d.file("s.state"));
    for (std::size_t i = 0; i < 2 * n + 10; ++i) sim.remember(rand_of(i));
  }
  CHECK(std::filesystem::file_size(d.file("s.state.rands")) < 16 * (n + 20));
  client::SoftSim again(keys(), "1", d.file("s.state"));
  CHECK(again.seen(rand_of(2 * n + 9)));
  CHECK(again.seen(rand_of(n + 10)));
  CHECK(!again.seen(rand_of(n + 9)));  // forgotten: older than the newest n
  CHECK(!again.seen(rand_of(0)));
}

TEST_CASE("SoftSim state: a torn write of the newest slot leaves the previous SQN_MS", "[client]") {
  test::TempDir d;
  const auto file = d.file("s.state");
  {
    client::SoftSim sim(keys(), "1", file);
    const auto q1 = quintet(3, 1), q2 = quintet(4, 2);
    REQUIRE(std::holds_alternative<aka::AkaSuccess>(sim.run_aka(q1.rand, q1.autn)));  // slot 1
    REQUIRE(std::holds_alternative<aka::AkaSuccess>(sim.run_aka(q2.rand, q2.autn)));  // slot 0
  }
  CHECK(client::SoftSim(keys(), "1", file).sqn_state().seq_ms()[0] == 4);
  // Damage the newest slot (slot 0) as a power loss in the middle of its write would.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    f.put('\x5a');
  }
  CHECK(client::SoftSim(keys(), "1", file).sqn_state().seq_ms()[0] == 3);
  // Both damaged: refused, never silently reset to a fresh SIM.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(file) - 1));
    f.put('\x5a');
  }
  CHECK_THROWS_WITH(client::SoftSim(keys(), "1", file), Catch::Contains("no valid slot"));
}

TEST_CASE("SoftSim profiles: errors name the file and the field", "[client]") {
  test::TempDir d;
  const auto ok = write(
      d, "a.json", R"({"imsi":"1","k":")" + kK + R"(","opc":"cd63cb71954a9f4e48a5994e37a02baf"})");
  const auto sim = client::SoftSim::load(ok);
  CHECK(sim.imsi() == "1");
  // OPc given directly gives the same SIM as OP (TS 35.208 set 1: OPc of that OP).
  CHECK(sim.run_gsm(aka::Bytes<16>{1}).sres ==
        client::SoftSim(keys(), "1", d.file("x")).run_gsm(aka::Bytes<16>{1}).sres);
  const auto fails = [&](const std::string& text, const std::string& what) {
    const auto f = write(d, "bad.json", text);
    try {
      client::SoftSim::load(f);
      FAIL("loaded " << text);
    } catch (const std::runtime_error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(f) == 0);
      CHECK(std::string(e.what()).find(what) != std::string::npos);
    }
  };
  fails(R"({"imsi":"1","op":")" + kOp + "\"}", "k: required");
  fails(R"({"imsi":"1","k":"zz","op":")" + kOp + "\"}", "k: not hex");
  fails(R"({"imsi":"1","k":")" + kK + R"(","op":")" + kOp + R"(","pin":"1234"})",
        "pin: unknown key");
  fails(R"({"imsi":"1","k":"0011","op":")" + kOp + "\"}", "K");
  fails("not json", "not JSON");
  write(d, "bad.json.state", std::string(600, 'x'));
  fails(R"({"imsi":"1","k":")" + kK + R"(","op":")" + kOp + "\"}", "malformed state");
  fails(R"({"imsi":"1","k":")" + kK + R"(","op":")" + kOp + R"(","ind_len":11})", "ind_len");
  CHECK_THROWS_WITH(client::SoftSim::load(d.file("missing.json")), Catch::Contains("cannot read"));
}
