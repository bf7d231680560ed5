// Secrets: wiped, compared in constant time, not printable; hex codec.
#include <catch2/catch.hpp>

#include <ostream>

#include "proto/aka/bytes.hpp"
#include "proto/aka/hex.hpp"

using namespace oag::aka;

template <typename T>
concept Streamable = requires(std::ostream& os, const T& t) {
  os << t;
};

static_assert(!Streamable<Secret<16>>, "a Secret must not be printable");
static_assert(!Streamable<SecretVec<32>>, "a SecretVec must not be printable");
static_assert(Streamable<int>);

TEST_CASE("hex decodes strictly and encodes lower case", "[hex]") {
  CHECK(to_hex(*from_hex("00ABff")) == "00abff");
  CHECK_FALSE(from_hex("abc").has_value());
  CHECK_FALSE(from_hex("zz").has_value());
  CHECK_FALSE(from_hex("0x00").has_value());
  CHECK(from_hex("")->empty());
  CHECK(from_hex_fixed<2>("0102").has_value());
  CHECK_FALSE(from_hex_fixed<2>("010203").has_value());
}

TEST_CASE("Secrets compare by value and wipe on destruction", "[secret]") {
  const Secret<4> a(Bytes<4>{1, 2, 3, 4});
  const Secret<4> b(Bytes<4>{1, 2, 3, 4});
  const Secret<4> c(Bytes<4>{1, 2, 3, 5});
  CHECK(a == b);
  CHECK_FALSE(a == c);

  const std::uint8_t raw[3] = {9, 9, 9};
  SecretVec<8> v(raw);
  CHECK(v.size() == 3);
  CHECK_FALSE(v == SecretVec<8>(ByteView(raw, 2)));
  v.resize(1);
  CHECK(v.size() == 1);
  CHECK_THROWS_AS(v.resize(9), std::length_error);
  CHECK_THROWS_AS(SecretVec<2>(ByteView(raw, 3)), std::length_error);

  // Destroy a secret in place and look at its storage afterwards.
  alignas(Secret<16>) unsigned char storage[sizeof(Secret<16>)] = {};
  auto* s = new (storage)
      Secret<16>(Bytes<16>{0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  s->~Secret<16>();
  std::size_t nonzero = 0;
  const volatile unsigned char* bytes = storage;  // read what the destructor left behind
  for (std::size_t i = 0; i < sizeof storage; ++i) nonzero += bytes[i] != 0;
  CHECK(nonzero == 0);
}
