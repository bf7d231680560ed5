#pragma once
// The Keccak-f[1600] permutation (FIPS 202 §3), the primitive TUAK is built on.

#include <array>
#include <cstdint>

namespace oag::aka {

/// Applies the 24 rounds of Keccak-f[1600] in place; lane i is state[i] (x = i % 5, y = i / 5).
void keccak_f1600(std::array<std::uint64_t, 25>& state) noexcept;

}  // namespace oag::aka
