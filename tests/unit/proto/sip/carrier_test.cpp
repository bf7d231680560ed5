#include <catch2/catch.hpp>

#include "proto/aka/hex.hpp"
#include "proto/sip/carrier.hpp"

using namespace oag;

TEST_CASE("INVITE, answer and ACK carriers round-trip for sim and aka", "[sip]") {
  sip::InviteCarrier inv{sip::Kind::aka,
                         *aka::from_hex_fixed<16>("23553cbe9637a89d218ae64dae47bf35"),
                         *aka::from_hex_fixed<16>("aa689c648370000097b1dfc9e00d4f94"), "0a1b2c3d"};
  const auto tag = sip::encode(inv);
  CHECK(tag == "oag1.a.23553cbe9637a89d218ae64dae47bf35aa689c648370000097b1dfc9e00d4f94.0a1b2c3d");
  const auto back = sip::decode_invite(tag);
  REQUIRE(back);
  CHECK(back->rand == inv.rand);
  CHECK(back->autn == inv.autn);

  sip::AnswerCarrier ans{sip::Kind::sim, {1, 2, 3, 4}, inv.rand, std::nullopt, sip::new_nonce()};
  const auto totag = sip::encode(ans);
  CHECK(totag.starts_with("oag1.s.01020304.23553cbe"));
  const auto a2 = sip::decode_answer(totag);
  REQUIRE(a2);
  CHECK(a2->res == ans.res);
  CHECK(!a2->autn);
  CHECK(a2->nonce == ans.nonce);

  sip::AckCarrier ack{{0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf}, "ffffffff"};
  const auto branch = std::string(sip::kMagicCookie) + sip::encode(ack);
  CHECK(branch == "z9hG4bKoag1.a54211d5e3ba50bf.ffffffff");
  const auto k2 = sip::decode_ack(branch);
  REQUIRE(k2);
  CHECK(k2->res == ack.res);
  CHECK(sip::decode_ack(sip::encode(ack))->res == ack.res);
}

TEST_CASE("malformed carriers are refused with a reason", "[sip]") {
  std::string why;
  CHECK(!sip::decode_invite("3a9f2c1b", &why));  // an ordinary tag
  CHECK(!why.empty());
  CHECK(!sip::decode_invite("oag1.s.00112233.0a1b2c3d", &why));  // short RAND
  CHECK(why.find("32 hex digits") != std::string::npos);
  CHECK(!sip::decode_invite("oag1.x.23553cbe9637a89d218ae64dae47bf35.0a1b2c3d", &why));
  CHECK(!sip::decode_invite("oag1.s.23553cbe9637a89d218ae64dae47bf3z.0a1b2c3d", &why));
  CHECK(!sip::decode_invite("oag1.s.23553cbe9637a89d218ae64dae47bf35.0a1b", &why));
  CHECK(!sip::decode_answer("oag1.s.010203.23553cbe9637a89d218ae64dae47bf35.0a1b2c3d", &why));
  CHECK(!sip::decode_ack("z9hG4bK776asdhds", &why));
  CHECK(!sip::decode_ack("oag1.A54211D5.ffffffff", &why));  // carriers are lower-case hex
  CHECK(why == "response: not lower-case hex");
  CHECK(!sip::decode_ack("oag1.a54211d5.ffffFfff", &why));
  CHECK(sip::is_oag1("oag1.s.x"));
  CHECK(!sip::is_oag1("oag2.s.x"));
  CHECK(sip::new_nonce() != sip::new_nonce());
}
