// The identity rules, once: NAI, realm, IMSI, kinds. The API's parser uses the same rule (a
// subscriber the store accepts is one a request can name).
#include <catch2/catch.hpp>

#include "proto/ident/ident.hpp"
#include "proto/wire/messages.hpp"

using namespace oag;

TEST_CASE("NAI: user@realm, one '@', printable, a DNS realm, at most 253 bytes", "[ident]") {
  for (const std::string& ok :
       std::vector<std::string>{"alice@op-a.example", "a@b", "1244070100000001@eapsim.foo",
                                "a.b+c@x-1.y", std::string(250, 'a') + "@op"})
    CHECK(ident::valid_nai(ok));
  for (const std::string& bad : std::vector<std::string>{"",
                                                         "@op-a.example",
                                                         "alice@",
                                                         "alice",
                                                         "al ice@op-a.example",
                                                         "alice@@op-a.example",
                                                         "a@b@c",
                                                         "al\"ice@op-a.example",
                                                         "al\\ice@op-a.example",
                                                         "a,b@op-a.example",
                                                         "a;b@op-a.example",
                                                         "<a>@op-a.example",
                                                         "a\t@op-a.example",
                                                         "\xc3\xa9@op-a.example",
                                                         "a@op_a.example",
                                                         "a@-op.example",
                                                         "a@op-.example",
                                                         "a@op..example",
                                                         "a@.op",
                                                         "a@op.",
                                                         std::string(251, 'a') + "@op"}) {
    INFO(bad);
    CHECK_FALSE(ident::valid_nai(bad));
  }
}

TEST_CASE("realm: DNS labels of letters, digits and inner '-'", "[ident]") {
  CHECK(ident::valid_realm("op-a.example"));
  CHECK(ident::valid_realm("localhost"));
  CHECK_FALSE(ident::valid_realm(""));
  CHECK_FALSE(ident::valid_realm("op a.example"));
  CHECK_FALSE(ident::valid_realm("op/a"));
  CHECK_FALSE(ident::valid_realm(std::string(64, 'a') + ".example"));
  CHECK(ident::valid_realm(std::string(63, 'a') + ".example"));
  CHECK(ident::realm_of("alice@op-a.example") == "op-a.example");
  CHECK(ident::realm_of("alice").empty());
}

TEST_CASE("IMSI: 6 to 15 digits", "[ident]") {
  CHECK(ident::valid_imsi("001010000000001"));
  CHECK(ident::valid_imsi("123456"));
  CHECK_FALSE(ident::valid_imsi("12345"));
  CHECK_FALSE(ident::valid_imsi("0010100000000012"));
  CHECK_FALSE(ident::valid_imsi("00101000000000a"));
}

TEST_CASE("kinds: one spelling each, both ways", "[ident]") {
  for (const auto k : {ident::Kind::sim, ident::Kind::aka})
    CHECK(ident::parse_kind(ident::to_string(k)) == k);
  CHECK_FALSE(ident::parse_kind("SIM"));
  CHECK_FALSE(ident::parse_kind("triplet"));
}

TEST_CASE("the API refuses a NAI the rule refuses, naming the field", "[ident][wire]") {
  const auto bad = wire::parse_vector_request(R"({"nai":"a@op_a.example","kind":"aka"})", false);
  REQUIRE(std::holds_alternative<wire::Problem>(bad));
  CHECK(std::get<wire::Problem>(bad).detail.rfind("nai:", 0) == 0);
  const auto good = wire::parse_vector_request(R"({"nai":"a@op-a.example","kind":"sim"})", false);
  REQUIRE(std::holds_alternative<wire::VectorRequest>(good));
  CHECK(std::get<wire::VectorRequest>(good).kind == ident::Kind::sim);
}
