// End to end: alice@op-a calls bob@op-b through a real Kamailio; both authenticate each other with
// their SIMs through their own gateways (real oagd processes brokering under agreements).
#include <catch2/catch.hpp>

#include "client/soft_sim.hpp"
#include "tests/e2e/sip_world.hpp"

using namespace oag::test;
using nlohmann::json;

namespace {

const std::string kVerdict =
    R"(\n(mutually authenticated: session key [0-9a-f]{16}|authentication failed: [^\n]*))";
const std::string kWrongK = "000102030405060708090a0b0c0d0e0f";

// The outcomes each gateway recorded from its endpoint's reports.
std::vector<std::string> outcomes(const Gateway& g) {
  std::vector<std::string> o;
  for (const auto& r : World::results(g)) o.push_back(r.at("outcome"));
  return o;
}

}  // namespace

TEST_CASE("sim and aka calls authenticate both ways over UDP and TCP and carriers arrive unchanged",
          "[e2e]") {
  World w;
  for (const std::string transport : {"udp", "tcp"})
    for (const std::string kind : {"sim", "aka"}) {
      INFO(transport << " " << kind);
      auto r = w.run({"--transport", transport, "--calls", "1"},
                     {"--transport", transport, "--kind", kind});
      auto& alice = r.alice;
      auto& bob = r.bob;
      INFO(r.both());
      CHECK(r.alice_status == 0);
      CHECK(r.bob_status == 0);
      const auto key = find(alice->out(), "mutually authenticated: session key ([0-9a-f]{16})");
      CHECK(key.size() == 16);
      CHECK(find(bob->out(), "mutually authenticated: session key ([0-9a-f]{16})") == key);
      // Byte-identical at the far end: From-tag, To-tag and the ACK branch.
      const auto from_tag = find(alice->out(), "sent From-tag (\\S+)");
      CHECK(from_tag.rfind("oag1." + std::string(kind == "sim" ? "s" : "a") + ".", 0) == 0);
      CHECK(find(bob->out(), "got From-tag (\\S+)") == from_tag);
      const auto to_tag = find(bob->out(), "200 OK sent, To-tag (\\S+)");
      CHECK(to_tag.rfind("oag1.", 0) == 0);
      CHECK(find(alice->out(), "got 200 OK, To-tag (\\S+)") == to_tag);
      const auto branch = find(alice->out(), "ACK sent, branch (\\S+)");
      CHECK(branch.rfind("z9hG4bKoag1.", 0) == 0);
      CHECK(find(bob->out(), "got ACK, branch (\\S+)") == branch);
      // (180 Ringing goes out just before the 200; a proxy with several workers may forward
      // the 200 first and then drop the late 180, so its arrival is not asserted.)
      CHECK(bob->out().find("180 and 200 OK sent") != std::string::npos);
    }
  // Each endpoint reported each peer vector's outcome to its own gateway.
  CHECK(outcomes(w.a) == std::vector<std::string>(4, "success"));
  CHECK(outcomes(w.b) == std::vector<std::string>(4, "success"));
  for (const auto& r : World::results(w.a)) CHECK(r.at("role") == "bought");
}

TEST_CASE("a wrong K on the callee: the caller finds it, sends BYE, both report failure", "[e2e]") {
  World w;
  w.sim("bob", kWrongK);
  auto r = w.run({"--calls", "1"}, {});
  auto& alice = r.alice;
  auto& bob = r.bob;
  INFO(r.both());
  CHECK(r.alice_status == 1);
  CHECK(r.bob_status == 1);
  CHECK(find(alice->out(), kVerdict) ==
        "authentication failed: the callee's response is wrong (not bob@op-b.example's SIM)");
  CHECK(alice->out().find("BYE sent (oag1 the callee's response is wrong") != std::string::npos);
  CHECK(alice->out().find("ACK sent, OAG-Auth oag1.refused") != std::string::npos);
  // The ACK (refusing) and the BYE go out back to back; a proxy may deliver them either way.
  const auto bob_verdict = find(bob->out(), kVerdict);
  CHECK(
      (bob_verdict == "authentication failed: the caller refused our response" ||
       bob_verdict.rfind("authentication failed: the caller hung up: oag1 the callee's", 0) == 0));
  CHECK(bob->out().find("got BYE (oag1 the callee's response is wrong") != std::string::npos);
  CHECK(bob->out().find("BYE sent") == std::string::npos);  // no crossing BYEs
  CHECK(outcomes(w.a) == std::vector<std::string>{"failure"});
  CHECK(outcomes(w.b) == std::vector<std::string>{"failure"});
}

TEST_CASE("a wrong K on the caller: the callee finds it and sends BYE", "[e2e]") {
  World w;
  w.sim("alice", kWrongK);
  auto r = w.run({"--calls", "1"}, {});
  auto& alice = r.alice;
  auto& bob = r.bob;
  INFO(r.both());
  CHECK(r.alice_status == 1);
  CHECK(r.bob_status == 1);
  CHECK(find(bob->out(), kVerdict) ==
        "authentication failed: the caller's response is wrong (not alice@op-a.example's SIM)");
  CHECK(bob->out().find("BYE sent (the caller's response is wrong") != std::string::npos);
  CHECK(find(alice->out(), kVerdict)
            .rfind("authentication failed: the callee hung up: oag1 the "
                   "caller's response is wrong",
                   0) == 0);
  // Alice verified bob (success); bob did not verify alice (failure).
  CHECK(outcomes(w.a) == std::vector<std::string>{"success"});
  CHECK(outcomes(w.b) == std::vector<std::string>{"failure"});
}

TEST_CASE("an AKA sync failure: the callee resyncs, answers 403, the caller retries and succeeds",
          "[e2e]") {
  World w;
  // Bob's SIM accepted SEQ 1000 elsewhere (another network): it is far ahead of his gateway.
  {
    auto sim = oag::client::SoftSim::load(w.dir.file("bob.sim.json"));
    const auto q = oag::aka::generate_quintet(subscriber_keys(), oag::aka::Bytes<16>{0x42},
                                              oag::aka::Sqn::from_seq_ind(1000, 0, 5), {0x80, 0});
    REQUIRE(std::holds_alternative<oag::aka::AkaSuccess>(sim.run_aka(q.rand, q.autn)));
  }
  const auto sqn_before = w.b.sqn_of("bob@op-b.example");
  auto r = w.run({"--calls", "2"}, {"--kind", "aka"});
  auto& alice = r.alice;
  auto& bob = r.bob;
  const int st = r.alice_status, bob_st = r.bob_status;
  INFO(r.both());
  CHECK(bob->out().find("refused: oag1 sync-failure") != std::string::npos);
  CHECK(alice->out().find("got 403 Forbidden (oag1 sync-failure)") != std::string::npos);
  CHECK(alice->out().find("once more with a fresh vector") != std::string::npos);
  CHECK(st == 0);
  CHECK(bob_st == 0);
  CHECK(find(alice->out(), kVerdict).rfind("mutually authenticated", 0) == 0);
  CHECK(w.b.sqn_of("bob@op-b.example") > 1000);  // the gateway moved past the SIM
  CHECK(sqn_before < 1000);
}

TEST_CASE("through a topology-hiding proxy: the branch is rewritten, the OAG-Auth header is not",
          "[e2e]") {
  World w(true);
  {
    auto r = w.run({"--calls", "1"}, {});
    auto& alice = r.alice;
    auto& bob = r.bob;
    const int st = r.alice_status;
    INFO(r.both());
    // topoh masks the caller's Via: the branch carrier does not arrive, the callee ends the call
    // and both sides agree that it failed.
    CHECK(st == 1);
    CHECK(find(bob->out(), "got ACK, branch (\\S+)") !=
          find(alice->out(), "ACK sent, branch (\\S+)"));
    CHECK(
        find(bob->out(), kVerdict).rfind("authentication failed: the ACK carries no response", 0) ==
        0);
    CHECK(find(alice->out(), kVerdict).rfind("authentication failed: the callee hung up", 0) == 0);
  }
  for (const std::string transport : {"udp", "tcp"}) {
    auto r = w.run({"--calls", "1", "--carrier", "header", "--transport", transport},
                   {"--carrier", "header", "--transport", transport, "--kind", "aka"});
    auto& alice = r.alice;
    auto& bob = r.bob;
    INFO(r.both());
    CHECK(r.alice_status == 0);
    CHECK(r.bob_status == 0);
    const auto value = find(alice->out(), "ACK sent, OAG-Auth (\\S+)");
    CHECK(value.rfind("oag1.", 0) == 0);
    CHECK(find(bob->out(), "got ACK, OAG-Auth (\\S+)") == value);
    CHECK(find(bob->out(), "got From-tag (\\S+)") == find(alice->out(), "sent From-tag (\\S+)"));
  }
}

TEST_CASE("a replayed INVITE (the same RAND again) is refused by the callee", "[e2e]") {
  World w;
  for (const std::string kind : {"sim", "aka"}) {
    auto r = w.run({"--calls", "2"}, {"--replay", "--kind", kind});
    auto& alice = r.alice;
    auto& bob = r.bob;
    INFO(r.both());
    CHECK(r.alice_status == 0);
    CHECK(alice->out().find("replayed INVITE refused: the call was refused: 403 Forbidden (oag1 "
                            "replayed challenge)") != std::string::npos);
    CHECK(bob->out().find("refused: oag1 replayed challenge") != std::string::npos);
  }
}

TEST_CASE("a plain SIP caller gets a clear rejection and a proxy's own 404 is not a carrier",
          "[e2e]") {
  World w(false, {"bob", "carol"});
  auto bob = w.answer({"--calls", "1"});
  int st = 0;
  auto plain = std::make_unique<Child>([&] {
    auto args = w.phone("call", w.a, "alice", {"--no-auth"});
    args.insert(args.begin() + 2, "bob@op-b.example");
    return args;
  }());
  st = plain->wait_exit();
  bob->wait_exit();
  INFO("alice:\n" << plain->out() << "\nbob:\n" << bob->out());
  CHECK(st == 1);
  CHECK(plain->out().find("call failed: the call was refused: 403 Forbidden (oag1 authentication "
                          "required)") != std::string::npos);
  CHECK(bob->out().find("refused: oag1 authentication required") != std::string::npos);

  // carol@op-b is a subscriber but not registered: Kamailio answers 404 with its own To-tag.
  auto args = w.phone("call", w.a, "alice", {});
  args.insert(args.begin() + 2, "carol@op-b.example");
  Child carol_call(args);
  const int carol_st = carol_call.wait_exit();
  INFO(carol_call.out());
  CHECK(carol_st == 1);
  CHECK(find(carol_call.out(), kVerdict) ==
        "authentication failed: the call was refused: 404 Not Found");
  // The vector alice fetched for carol was not used: no result reported.
  CHECK(outcomes(w.a).empty());
}

TEST_CASE("a callee that is gone: the proxy's own 408 ends the call", "[e2e]") {
  World w;
  {
    // Bob registers, then dies without unregistering: his contact stays at the proxy.
    auto bob = w.answer({"--calls", "1"});
    kill(bob->pid(), SIGKILL);
    bob->wait_exit();
  }
  int st = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto alice = w.call({}, st);
  INFO(alice->out());
  CHECK(st == 1);
  CHECK(find(alice->out(), kVerdict) ==
        "authentication failed: the call was refused: 408 Request Timeout");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(6));
  // Bob's vector was fetched but never answered: no verdict is reported for it.
  CHECK(outcomes(w.a).empty());
}

TEST_CASE("oag-phone: a bad argument is exit 2 with a message naming it", "[e2e]") {
  TempDir d;
  const auto run = [](const std::vector<std::string>& args) {
    std::string cmd = OAG_PHONE_PATH;
    for (const auto& a : args) cmd += " " + shell_quote(a);
    return run_command(cmd);
  };
  const auto fails = [&](const std::vector<std::string>& args, const std::string& named) {
    const auto r = run(args);
    INFO(r.out << r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(named) != std::string::npos);
  };
  fails({"call", "bob@op-b.example", "--nai", "alice@op-a.example", "--proxy", "nowhere"},
        "--proxy: HOST:PORT expected");
  fails({"answer", "--nai", "bob", "--no-auth"}, "--nai: user@realm expected");
  fails({"answer", "--nai", "bob@op-b.example"}, "--sim: required unless --auth none");
  fails({"call", "bob@op-b.example", "--nai", "alice@op-a.example", "--auth", "cert"},
        "--home-url: https://HOST:PORT required with --auth cert");
  fails({"answer", "--nai", "bob@op-b.example", "--auth", "cert", "--transport", "tls"},
        "--proxy-ca: required with --transport tls");
  fails({"answer", "--nai", "bob@op-b.example", "--auth", "x509"}, "--auth");
  fails({"call", "bob@op-b.example", "--nai", "alice@op-a.example", "--kind", "umts"}, "--kind");
  std::ofstream(d.file("sim.json")) << R"({"imsi":"1","k":"xyz","op":"00"})";
  fails({"answer", "--nai", "bob@op-b.example", "--sim", d.file("sim.json"), "--ag", "127.0.0.1:1",
         "--ca", d.file("ca"), "--cert", d.file("c"), "--key", d.file("k")},
        d.file("sim.json") + ": k: not hex");
}

TEST_CASE("no ACK: the callee retransmits its 200 OK, then gives up with a BYE", "[e2e]") {
  World w;
  auto r = w.run({"--calls", "1", "--timeout-ms", "2000"}, {"--no-ack"});
  INFO(r.both());
  CHECK(r.alice_status == 1);
  CHECK(r.bob_status == 1);
  // T1 = 500 ms doubling: at 0.5 s and 1.5 s, then the BYE at 2 s.
  std::size_t retransmitted = 0;
  for (auto at = r.bob->out().find("200 OK retransmitted"); at != std::string::npos;
       at = r.bob->out().find("200 OK retransmitted", at + 1))
    ++retransmitted;
  CHECK(retransmitted == 2);
  CHECK(r.alice->out().find("got 200 OK again") != std::string::npos);  // through the proxy
  CHECK(find(r.bob->out(), kVerdict) == "authentication failed: no ACK for our 200 OK");
  CHECK(find(r.alice->out(), kVerdict) ==
        "authentication failed: the callee hung up: oag1 no ACK for our 200 OK");
  CHECK(outcomes(w.b) == std::vector<std::string>{"failure"});
}
