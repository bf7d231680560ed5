// Digest AKA: the response and rspauth recomputed from RFC 7616/2617's definitions with
// OpenSSL's MD5 directly, the header grammar, and the AKA nonce.
#include <openssl/evp.h>
#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/digest/digest.hpp"

using namespace oag;

namespace {

std::string md5(const std::string& s) {
  unsigned char d[16];
  unsigned n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_md5(), nullptr);
  return aka::to_hex(aka::ByteView(d, n));
}

}  // namespace

TEST_CASE("response and rspauth follow the Digest definition with RES as the password",
          "[digest]") {
  digest::Exchange x{
      "alice@op-a.example", "op-a.example", "bm9uY2U=", "/v1/enroll", "00000001", "0a4f113b"};
  const std::string res_bytes = std::string("\x01\x02\xfe\x00\x7f\x80\x11\x22", 8);
  const aka::ByteView res(reinterpret_cast<const std::uint8_t*>(res_bytes.data()), 8);
  const std::string body = "-----BEGIN CERTIFICATE REQUEST-----\nabc\n";
  const std::string ha1 = md5("alice@op-a.example:op-a.example:" + res_bytes);
  const std::string ha2 = md5("POST:/v1/enroll:" + md5(body));
  CHECK(digest::response(x, res, "POST", body) ==
        md5(ha1 + ":bm9uY2U=:00000001:0a4f113b:auth-int:" + ha2));
  const std::string answer = "certs";
  CHECK(digest::rspauth(x, res, answer) ==
        md5(ha1 + ":bm9uY2U=:00000001:0a4f113b:auth-int:" + md5(":/v1/enroll:" + md5(answer))));
  // Every input matters.
  auto y = x;
  y.cnonce = "0a4f113c";
  CHECK(digest::response(y, res, "POST", body) != digest::response(x, res, "POST", body));
  CHECK(digest::response(x, res, "POST", body + " ") != digest::response(x, res, "POST", body));
}

TEST_CASE("the header grammar: quoted strings, tokens, one of each, the scheme", "[digest]") {
  std::string why;
  const auto p = digest::parse(
      R"(Digest username="a\"b@c.d", realm=op-a.example,nonce="", response="x", nc=00000001)", why);
  REQUIRE(p);
  CHECK(p->at("username") == "a\"b@c.d");
  CHECK(p->at("realm") == "op-a.example");
  CHECK(p->at("nonce").empty());
  CHECK(p->at("nc") == "00000001");
  CHECK(digest::parse(R"(DIGEST Username="x")", why)->at("username") == "x");
  for (const std::string bad :
       {"Basic dXNlcg==", "Digest", "Digest username=\"x", "Digest username=\"x\", username=\"y\"",
        "Digest username", "Digest =x", "Digest a=b c=d", "Digest a=\"\x01\""}) {
    INFO(bad);
    CHECK_FALSE(digest::parse(bad, why));
    CHECK_FALSE(why.empty());
  }
  CHECK_FALSE(digest::parse("Digest username=\"x\", username=\"y\"", why));
  CHECK(why == "authorization.username: given twice");
  // What we format, we parse back.
  digest::Exchange x{"bob@op-b.example", "op-b.example", "n", "/v1/enroll", "00000001", "cn"};
  const auto back = digest::parse(digest::authorization(x, "resp", "op", "YXV0cw=="), why);
  REQUIRE(back);
  CHECK(back->at("username") == "bob@op-b.example");
  CHECK(back->at("auts") == "YXV0cw==");
  CHECK(back->at("qop") == "auth-int");
  const auto ch = digest::parse(digest::challenge("op-b.example", "n0nce", "op4que"), why);
  REQUIRE(ch);
  CHECK(ch->at("algorithm") == "AKAv1-MD5");
  CHECK(ch->at("opaque") == "op4que");
  const auto info = digest::parse_info(digest::authentication_info("abc", x), why);
  REQUIRE(info);
  CHECK(info->at("rspauth") == "abc");
}

TEST_CASE("the AKA nonce is base64(RAND ‖ AUTN), strictly decoded", "[digest]") {
  aka::Bytes<16> rand{}, autn{};
  for (int i = 0; i < 16; ++i) {
    rand[i] = static_cast<std::uint8_t>(i);
    autn[i] = static_cast<std::uint8_t>(0xf0 + i);
  }
  const auto n = digest::aka_nonce(rand, autn);
  CHECK(n.size() == 44);
  const auto back = digest::parse_aka_nonce(n);
  REQUIRE(back);
  CHECK(back->first == rand);
  CHECK(back->second == autn);
  CHECK_FALSE(digest::parse_aka_nonce(n.substr(0, 40)));
  CHECK_FALSE(digest::parse_aka_nonce("not base64!"));
  CHECK(digest::unbase64("YWJj")->size() == 3);
  CHECK(digest::unbase64("YWI=")->size() == 2);
  CHECK_FALSE(digest::unbase64("YW=j"));
  CHECK(digest::base64(aka::ByteView(reinterpret_cast<const std::uint8_t*>("ab"), 2)) == "YWI=");
}
