#include "proto/sip/carrier.hpp"

#include <openssl/rand.h>

#include <algorithm>

#include "proto/aka/hex.hpp"

namespace oag::sip {

namespace {

constexpr std::string_view kVersion = "oag1";

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const auto dot = s.find('.', start);
    out.push_back(s.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

bool fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return false;
}

// Carriers are lower-case hex only (what encode writes), so a carrier has one spelling.
bool lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool valid_nonce(std::string_view n) {
  return n.size() == 8 && lower_hex(n);
}

bool parse_kind(std::string_view s, Kind& k) {
  if (s == "s")
    k = Kind::sim;
  else if (s == "a")
    k = Kind::aka;
  else
    return false;
  return true;
}

std::string_view kind_letter(Kind k) {
  return k == Kind::sim ? "s" : "a";
}

// `oag1.<k>.`
std::string head(Kind k) {
  return std::string(kVersion) + '.' + std::string(kind_letter(k)) + '.';
}

// RAND, and AUTN after it for aka.
std::string challenge(Kind k, const aka::Bytes<16>& rand,
                      const std::optional<aka::Bytes<16>>& autn) {
  return aka::to_hex(rand) + (k == Kind::aka && autn ? aka::to_hex(*autn) : std::string());
}

// RAND, or RAND‖AUTN for aka.
bool parse_challenge(std::string_view hex, Kind k, aka::Bytes<16>& rand,
                     std::optional<aka::Bytes<16>>& autn, std::string* why) {
  const std::size_t want = k == Kind::sim ? 32 : 64;
  if (hex.size() != want)
    return fail(why, std::string("challenge: ") + std::to_string(want) +
                         " hex digits expected for " + std::string(to_string(k)) + ", got " +
                         std::to_string(hex.size()));
  if (!lower_hex(hex)) return fail(why, "challenge: not lower-case hex");
  rand = *aka::from_hex_fixed<16>(hex.substr(0, 32));  // length and digits checked above
  if (k == Kind::aka) autn = *aka::from_hex_fixed<16>(hex.substr(32));
  return true;
}

bool parse_res(std::string_view hex, Kind k, std::vector<std::uint8_t>& res, std::string* why) {
  const bool ok_len =
      k == Kind::sim ? hex.size() == 8 : hex.size() >= 8 && hex.size() <= 32 && hex.size() % 2 == 0;
  if (!ok_len) return fail(why, "response: wrong length " + std::to_string(hex.size()));
  if (!lower_hex(hex)) return fail(why, "response: not lower-case hex");
  res = *aka::from_hex(hex);  // even length and digits checked above
  return true;
}

}  // namespace

bool is_oag1(std::string_view tag) noexcept {
  return tag.starts_with("oag1.");
}

std::string new_nonce() {
  aka::Bytes<4> b{};
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  return aka::to_hex(b);
}

std::string encode(const InviteCarrier& c) {
  return head(c.kind) + challenge(c.kind, c.rand, c.autn) + '.' + c.nonce;
}

std::string encode(const AnswerCarrier& c) {
  return head(c.kind) + aka::to_hex(c.res) + '.' + challenge(c.kind, c.rand, c.autn) + '.' +
         c.nonce;
}

std::string encode(const AckCarrier& c) {
  return std::string(kVersion) + '.' + aka::to_hex(c.res) + '.' + c.nonce;
}

std::optional<InviteCarrier> decode_invite(std::string_view tag, std::string* why) {
  const auto p = split_dots(tag);
  InviteCarrier c;
  if (p.size() != 4 || p[0] != kVersion)
    return fail(why, "not an oag1 INVITE carrier"), std::nullopt;
  if (!parse_kind(p[1], c.kind)) return fail(why, "kind: expected s or a"), std::nullopt;
  if (!parse_challenge(p[2], c.kind, c.rand, c.autn, why)) return std::nullopt;
  if (!valid_nonce(p[3])) return fail(why, "nonce: 8 hex digits expected"), std::nullopt;
  c.nonce = p[3];
  return c;
}

std::optional<AnswerCarrier> decode_answer(std::string_view tag, std::string* why) {
  const auto p = split_dots(tag);
  AnswerCarrier c;
  if (p.size() != 5 || p[0] != kVersion)
    return fail(why, "not an oag1 answer carrier"), std::nullopt;
  if (!parse_kind(p[1], c.kind)) return fail(why, "kind: expected s or a"), std::nullopt;
  if (!parse_res(p[2], c.kind, c.res, why)) return std::nullopt;
  if (!parse_challenge(p[3], c.kind, c.rand, c.autn, why)) return std::nullopt;
  if (!valid_nonce(p[4])) return fail(why, "nonce: 8 hex digits expected"), std::nullopt;
  c.nonce = p[4];
  return c;
}

std::optional<AckCarrier> decode_ack(std::string_view value, std::string* why) {
  if (value.starts_with(kMagicCookie)) value.remove_prefix(kMagicCookie.size());
  const auto p = split_dots(value);
  AckCarrier c;
  if (p.size() != 3 || p[0] != kVersion) return fail(why, "not an oag1 ACK carrier"), std::nullopt;
  // The kind is the dialog's; accept any response length either kind allows.
  if (!parse_res(p[1], Kind::aka, c.res, why)) return std::nullopt;
  if (!valid_nonce(p[2])) return fail(why, "nonce: 8 hex digits expected"), std::nullopt;
  c.nonce = p[2];
  return c;
}

}  // namespace oag::sip
