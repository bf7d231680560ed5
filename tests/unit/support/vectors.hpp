#pragma once
// Access to the public test vectors in ../shared/vectors (or $OAG_VECTORS_DIR).

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::test {

/// Parses `<vectors dir>/<name>`; throws (failing the test) when the file is missing.
nlohmann::json load_vectors(const std::string& name);

/// The directory the vectors are read from.
std::string vectors_dir();

/// Hex string to bytes; throws on bad hex.
std::vector<std::uint8_t> unhex(const std::string& s);

/// Hex string to exactly N bytes; throws on bad hex or length.
template <std::size_t N>
aka::Bytes<N> unhex_fixed(const std::string& s) {
  auto v = unhex(s);
  if (v.size() != N) throw std::invalid_argument("wrong length: " + s);
  aka::Bytes<N> b{};
  std::copy(v.begin(), v.end(), b.begin());
  return b;
}

/// Hex string to a Secret of exactly N bytes.
template <std::size_t N>
aka::Secret<N> unhex_secret(const std::string& s) {
  return aka::Secret<N>(unhex_fixed<N>(s));
}

}  // namespace oag::test
