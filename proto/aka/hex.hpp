#pragma once
// Lower-case hex encoding and strict decoding.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::aka {

/// Lower-case hex of `v`.
std::string to_hex(ByteView v);

/// Decodes hex (either case, even length, no prefix or spaces); nullopt on any bad character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view s);

/// Decodes exactly N bytes of hex; nullopt on bad characters or a wrong length.
template <std::size_t N>
std::optional<Bytes<N>> from_hex_fixed(std::string_view s) {
  if (s.size() != 2 * N) return std::nullopt;
  auto v = from_hex(s);
  if (!v) return std::nullopt;
  Bytes<N> out{};
  std::copy(v->begin(), v->end(), out.begin());
  OPENSSL_cleanse(v->data(), v->size());
  return out;
}

}  // namespace oag::aka
