// Keccak-f[1600] checked as the permutation inside SHA3-256 against OpenSSL's SHA3.
#include <openssl/evp.h>
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "proto/aka/hex.hpp"
#include "proto/aka/keccak.hpp"

using namespace oag;

namespace {
// SHA3-256 sponge (rate 136 bytes, domain padding 0x06 ... 0x80) over our permutation.
std::string sha3_256(const std::string& msg) {
  std::array<std::uint64_t, 25> s{};
  std::vector<std::uint8_t> m(msg.begin(), msg.end());
  m.push_back(0x06);
  while (m.size() % 136 != 0) m.push_back(0);
  m.back() |= 0x80;
  for (std::size_t off = 0; off < m.size(); off += 136) {
    for (std::size_t i = 0; i < 136; ++i) s[i / 8] ^= std::uint64_t{m[off + i]} << (8 * (i % 8));
    aka::keccak_f1600(s);
  }
  std::uint8_t out[32];
  for (int i = 0; i < 32; ++i) out[i] = static_cast<std::uint8_t>(s[i / 8] >> (8 * (i % 8)));
  return aka::to_hex(out);
}

std::string openssl_sha3_256(const std::string& msg) {
  std::uint8_t md[32];
  unsigned len = 0;
  EVP_Digest(msg.data(), msg.size(), md, &len, EVP_sha3_256(), nullptr);
  return aka::to_hex(aka::ByteView(md, len));
}
}  // namespace

TEST_CASE("Keccak-f[1600] inside a SHA3-256 sponge matches OpenSSL", "[keccak]") {
  CHECK(sha3_256("") == "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  for (std::size_t n : {1u, 135u, 136u, 137u, 300u, 1000u}) {
    std::string msg(n, '\0');
    for (std::size_t i = 0; i < n; ++i) msg[i] = static_cast<char>(i * 7 + 3);
    INFO("length " << n);
    CHECK(sha3_256(msg) == openssl_sha3_256(msg));
  }
}
