#include <openssl/sha.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "proto/aka/hex.hpp"
#include "proto/login/messages.hpp"

using namespace oag;
using Json = nlohmann::json;

namespace {

const char* kCsr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
const char* kCert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

Json m2() {
  return Json{{"home_realm", "op-a.example"},
              {"visited_realm", "op-b.example"},
              {"n1", std::string(32, 'a')},
              {"time", 1764547200},
              {"device_profile", {{"os", "linux"}, {"app", {{"v", 1}, {"name", "oag-phone"}}}}},
              {"csr", kCsr},
              {"sealed", login::b64url(std::vector<std::uint8_t>(60, 7))}};
}

std::string problem_detail(const std::variant<login::LoginRequest, wire::Problem>& r) {
  const auto* p = std::get_if<wire::Problem>(&r);
  return p ? p->detail : "";
}

}  // namespace

TEST_CASE(
    "M2 parses strictly and round-trips and the AAD is SHA-256 of canonical M2 without sealed",
    "[login]") {
  const auto parsed = login::parse_login_request(m2().dump(2), false);
  REQUIRE(std::holds_alternative<login::LoginRequest>(parsed));
  const auto& m = std::get<login::LoginRequest>(parsed);
  CHECK(m.device_profile == R"({"app":{"name":"oag-phone","v":1},"os":"linux"})");
  CHECK(m.sealed.size() == 60);
  // Independently: drop "sealed", dump with sorted keys and no whitespace, hash.
  Json without = m2();
  without.erase("sealed");
  const std::string canon = without.dump();
  unsigned char want[32];
  SHA256(reinterpret_cast<const unsigned char*>(canon.data()), canon.size(), want);
  CHECK(aka::to_hex(login::login_aad(m)) == aka::to_hex(aka::ByteView(want, 32)));
  // M3 adds request_id, which the AAD does not cover (the FA adds it).
  auto m3 = m;
  m3.request_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  const auto back = login::parse_login_request(login::to_json(m3), true);
  REQUIRE(std::holds_alternative<login::LoginRequest>(back));
  CHECK(std::get<login::LoginRequest>(back).request_id == m3.request_id);
  CHECK(login::login_aad(std::get<login::LoginRequest>(back)) == login::login_aad(m));
  // A different device profile is a different AAD.
  auto other = m;
  other.device_profile = R"({"os":"bsd"})";
  CHECK(login::login_aad(other) != login::login_aad(m));
}

TEST_CASE("M2 errors name the field", "[login]") {
  auto j = m2();
  j["extra"] = 1;
  CHECK(problem_detail(login::parse_login_request(j.dump(), false)) == "extra: unknown field");
  j = m2();
  j["n1"] = "zz";
  CHECK(problem_detail(login::parse_login_request(j.dump(), false)).rfind("n1:", 0) == 0);
  j = m2();
  j["visited_realm"] = "not a realm";
  CHECK(problem_detail(login::parse_login_request(j.dump(), false)).rfind("visited_realm:", 0) ==
        0);
  j = m2();
  j["device_profile"] = "text";
  CHECK(problem_detail(login::parse_login_request(j.dump(), false)).rfind("device_profile:", 0) ==
        0);
  j = m2();
  j["sealed"] = "AAAA=";
  CHECK(problem_detail(login::parse_login_request(j.dump(), false)).rfind("sealed:", 0) == 0);
  j = m2();
  j.erase("csr");
  CHECK(problem_detail(login::parse_login_request(j.dump(), false)) == "csr: required");
  CHECK(problem_detail(login::parse_login_request(m2().dump(), true)) == "request_id: required");
  j = m2();
  j["time"] = "now";
  CHECK(problem_detail(login::parse_login_request(j.dump(), false)).rfind("time:", 0) == 0);
  const auto not_json = login::parse_login_request("{", false);
  REQUIRE(std::holds_alternative<wire::Problem>(not_json));
  CHECK(std::get<wire::Problem>(not_json).code == "malformed-json");
}

TEST_CASE("the sealed identity is exactly hv and id", "[login]") {
  login::Identity id{"carol@op-a.example",
                     aka::Secret<32>(*aka::from_hex_fixed<32>(std::string(64, 'b')))};
  const auto back = login::parse_identity(login::to_json(id));
  REQUIRE(back);
  CHECK(back->nai == id.nai);
  CHECK(back->hv == id.hv);
  CHECK_FALSE(login::parse_identity(R"({"id":"carol@op-a.example"})"));
  CHECK_FALSE(login::parse_identity(R"({"id":"nobody","hv":")" + std::string(64, 'b') + "\"}"));
}

TEST_CASE(
    "M4 and M5 round-trip and a NACK's proof opens only under Z and says whether HV2 is in it",
    "[login]") {
  login::HomeAck ack;
  ack.nai = "carol@op-a.example";
  ack.confirm = aka::Secret<32>(*aka::from_hex_fixed<32>(std::string(64, 'c')));
  ack.ks2 = aka::Secret<32>(*aka::from_hex_fixed<32>(std::string(64, 'd')));
  ack.n2.fill(2);
  ack.n3.fill(3);
  ack.certificate = kCert;
  ack.chain = {kCert};
  ack.expires = "2026-12-03T00:00:00.000Z";
  ack.ha_session = "h-1";
  const auto back = login::parse_home_answer(login::to_json(login::HomeAnswer(ack)));
  REQUIRE(std::holds_alternative<login::HomeAnswer>(back));
  const auto& a = std::get<login::HomeAck>(std::get<login::HomeAnswer>(back));
  CHECK(a.ks2 == ack.ks2);
  CHECK(a.confirm == ack.confirm);
  CHECK(a.n3 == ack.n3);
  CHECK(a.chain.size() == 1);

  aka::Secret<32> z(*aka::from_hex_fixed<32>(std::string(64, 'e')));
  login::Proof with{login::Reason::revoked_user,
                    aka::Secret<32>(ack.n2.size() ? *aka::from_hex_fixed<32>(std::string(64, 'f'))
                                                  : aka::Bytes<32>{})};
  login::Nack nack{login::Reason::revoked_user, ack.n2, login::seal_proof(z, with)};
  const auto nb = login::parse_visitor_answer(login::to_json(login::VisitorAnswer(nack)));
  REQUIRE(std::holds_alternative<login::VisitorAnswer>(nb));
  const auto& n = std::get<login::Nack>(std::get<login::VisitorAnswer>(nb));
  CHECK(n.reason == login::Reason::revoked_user);
  const auto p = login::open_proof(z, n.proof);
  REQUIRE(p);
  CHECK(p->reason == login::Reason::revoked_user);
  REQUIRE(p->hv2);
  CHECK(*p->hv2 == *with.hv2);
  CHECK_FALSE(login::open_proof(aka::Secret<32>(), n.proof));
  auto bent = n.proof;
  bent[0] ^= 1;
  CHECK_FALSE(login::open_proof(z, bent));
  const auto without =
      login::open_proof(z, login::seal_proof(z, {login::Reason::bad_credentials, std::nullopt}));
  REQUIRE(without);
  CHECK_FALSE(without->hv2);

  login::Ticket t{"carol@op-a.example", ack.confirm, ack.n3, kCert, {kCert}, "s-1",
                  ack.expires,          "h-1"};
  const auto tb = login::parse_ticket(login::to_json(t));
  REQUIRE(tb);
  CHECK(tb->session == "s-1");
  CHECK(tb->confirm == t.confirm);
  CHECK_FALSE(login::parse_ticket(R"({"id":"carol@op-a.example"})"));
  // A bad field of M4 is named.
  auto j = Json::parse(login::to_json(login::HomeAnswer(ack)));
  j["ks2"] = "00";
  const auto bad = login::parse_home_answer(j.dump());
  REQUIRE(std::holds_alternative<wire::Problem>(bad));
  CHECK(std::get<wire::Problem>(bad).detail.rfind("ks2:", 0) == 0);
}

TEST_CASE("OAG-Session authorization parses strictly", "[login]") {
  login::SessionAuth a{"3f2a-01", 1764547200123, {}};
  a.mac.fill(0xab);
  const auto back = login::parse_session_auth(login::to_header(a));
  REQUIRE(back);
  CHECK(back->id == a.id);
  CHECK(back->ts_ms == a.ts_ms);
  CHECK(back->mac == a.mac);
  CHECK_FALSE(login::parse_session_auth("Digest id=1, ts=2, mac=" + std::string(64, 'a')));
  CHECK_FALSE(login::parse_session_auth("OAG-Session id=1, ts=2"));
  CHECK_FALSE(login::parse_session_auth("OAG-Session id=1, ts=x, mac=" + std::string(64, 'a')));
  CHECK_FALSE(
      login::parse_session_auth("OAG-Session id=1, id=2, ts=2, mac=" + std::string(64, 'a')));
  CHECK_FALSE(login::parse_session_auth("OAG-Session id=a b, ts=2, mac=" + std::string(64, 'a')));
}

TEST_CASE("base64url without padding and one encoding per byte string", "[login]") {
  for (std::size_t n = 0; n < 40; ++n) {
    std::vector<std::uint8_t> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 37 + 11);
    const auto t = login::b64url(b);
    CHECK(t.find_first_of("+/=") == std::string::npos);
    CHECK(login::unb64url(t) == b);
  }
  CHECK(login::b64url(std::vector<std::uint8_t>{0xfb, 0xff}) == "-_8");
  CHECK_FALSE(login::unb64url("-_9"));  // non-zero unused bits
  CHECK_FALSE(login::unb64url("AAA="));
  CHECK_FALSE(login::unb64url("A"));
}
