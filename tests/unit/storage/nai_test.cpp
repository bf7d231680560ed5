// The store's NAI rule and the HTTP API's must be the same, or a subscriber could be
// provisioned whom no request can name. They live apart (proto may not depend on storage, nor
// storage on proto/wire); this test holds them together.
#include <catch2/catch.hpp>

#include "proto/wire/messages.hpp"
#include "storage/types.hpp"

TEST_CASE("storage::valid_nai and wire::valid_nai agree", "[storage][nai]") {
  const std::vector<std::string> cases = {"alice@op-a.example",
                                          "a@b",
                                          "1244070100000001@eapsim.foo",
                                          "",
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
                                          std::string(250, 'a') + "@op",
                                          std::string(251, 'a') + "@op"};
  for (const auto& nai : cases) {
    INFO(nai);
    CHECK(oag::storage::valid_nai(nai) == oag::wire::valid_nai(nai));
  }
  CHECK(oag::storage::valid_nai("alice@op-a.example"));
  CHECK_FALSE(oag::storage::valid_nai("al\"ice@op-a.example"));
}
