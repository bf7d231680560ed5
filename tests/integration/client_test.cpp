// liboag-client against real gateways: the AG client (pooled mTLS, problem mapping) and the two
// mutual-authentication state machines run against each other without any SIP stack.
#include <catch2/catch.hpp>

#include "client/mutual_auth.hpp"
#include "tests/integration/gateway_process.hpp"

using namespace oag;
using test::Gateway;

namespace {

client::GatewayOptions options_for(const Gateway& g, const std::string& user) {
  client::GatewayOptions o;
  o.port = g.endpoint_port;
  o.server_name = "localhost";
  o.ca_file = g.dir.file("endpoint-ca.pem");
  o.cert_file = g.dir.file(user + "@" + g.realm + ".pem");
  o.key_file = g.dir.file(user + "@" + g.realm + ".key");
  return o;
}

}  // namespace

TEST_CASE("the AG client pools its connection and maps problems", "[client]") {
  Gateway a("op-a.example", {"alice"});
  client::GatewayClient ag(options_for(a, "alice"));
  for (int i = 0; i < 5; ++i) {
    auto r = ag.fetch_vectors("alice@op-a.example", ident::Kind::aka, 2);
    REQUIRE(std::holds_alternative<client::VectorSet>(r));
    CHECK(std::get<client::VectorSet>(r).vectors.size() == 2);
    CHECK(std::get<client::VectorSet>(r).issuer == "op-a.example");
  }
  CHECK(ag.connections_opened() == 1);
  auto r = ag.fetch_vectors("nobody@op-a.example", ident::Kind::sim, 1);
  REQUIRE(std::holds_alternative<client::Error>(r));
  CHECK(std::get<client::Error>(r).status == 404);
  r = ag.fetch_vectors("bob@op-b.example", ident::Kind::sim, 1);
  CHECK(std::get<client::Error>(r).code == "no-agreement");
  const auto v =
      std::get<client::VectorSet>(ag.fetch_vectors("alice@op-a.example", ident::Kind::sim, 1));
  CHECK(!ag.report_result(v.vectors.at(0).id, true));
  const auto again = ag.report_result(v.vectors.at(0).id, true);
  REQUIRE(again);
  CHECK(again->status == 409);
  const auto bad = ag.resync(v.vectors.at(0).rand, aka::Auts{});
  REQUIRE(bad);
  CHECK(bad->code == "bad-auts");
  CHECK(ag.connections_opened() == 1);
  // The gateway gone: a transport error, quickly.
  a.stop();
  r = ag.fetch_vectors("alice@op-a.example", ident::Kind::sim, 1);
  CHECK(std::get<client::Error>(r).status == 0);
  CHECK(std::get<client::Error>(r).code == "transport");

  auto o = options_for(a, "alice");
  o.key_file = a.dir.file("missing.key");
  CHECK_THROWS_WITH(client::GatewayClient(o), Catch::Contains("key_file " + o.key_file));
}

TEST_CASE("caller and callee machines authenticate each other through two gateways", "[client]") {
  Gateway a("op-a.example", {"alice"});
  Gateway b("op-b.example", {"bob"});
  test::agree_both(a, b);
  client::GatewayClient ag_a(options_for(a, "alice")), ag_b(options_for(b, "bob"));
  const auto keys = test::subscriber_keys();
  for (const auto kind : {sip::Kind::sim, sip::Kind::aka}) {
    client::SoftSim sim_a(keys, "1", a.dir.file("alice.state")),
        sim_b(keys, "2", b.dir.file("bob.state"));
    client::CallerAuth caller(ag_a, sim_a, "alice@op-a.example", "bob@op-b.example", kind);
    client::CalleeAuth callee(ag_b, sim_b, "bob@op-b.example");
    const auto from_tag = caller.start();
    REQUIRE(from_tag);
    auto answer = callee.on_invite(*from_tag, "alice@op-a.example");
    REQUIRE(std::holds_alternative<std::string>(answer));
    const auto ack = caller.on_answer(std::get<std::string>(answer), "call-1@test");
    INFO(caller.reason());
    REQUIRE(ack);
    REQUIRE(callee.on_ack(*ack, "call-1@test"));
    CHECK(caller.keys().fingerprint() == callee.keys().fingerprint());
    CHECK(caller.keys().a_to_b.master_key == callee.keys().a_to_b.master_key);
    CHECK(!caller.report());
    CHECK(!callee.report());
    // The same challenge again is refused by the callee's SIM.
    client::CalleeAuth replay(ag_b, sim_b, "bob@op-b.example");
    const auto r = replay.on_invite(*from_tag, "alice@op-a.example");
    REQUIRE(std::holds_alternative<client::CalleeAuth::Reject>(r));
    CHECK(std::get<client::CalleeAuth::Reject>(r).warning == "oag1 replayed challenge");
  }
  // A tampered answer fails on the caller's side and is reported as a failure.
  client::SoftSim sim_a(keys, "1", a.dir.file("alice2.state")),
      sim_b(keys, "2", b.dir.file("bob2.state"));
  client::CallerAuth caller(ag_a, sim_a, "alice@op-a.example", "bob@op-b.example", sip::Kind::sim);
  client::CalleeAuth callee(ag_b, sim_b, "bob@op-b.example");
  auto answer = std::get<std::string>(callee.on_invite(*caller.start(), "alice@op-a.example"));
  answer[8] = answer[8] == '0' ? '1' : '0';  // a digit of SRES_B
  CHECK(!caller.on_answer(answer, "call-2@test"));
  CHECK(caller.state() == client::AuthState::failed);
  CHECK(!caller.report());
  // op-a per call: bob's vector bought, alice's vector sold to op-b, alice's result report.
  CHECK(a.ctl_json("billing verify").at("records") == 3 * 3);
}
