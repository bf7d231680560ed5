#pragma once
// RANDs from the CSPRNG in batches: one RAND_bytes call costs ~1.8 µs, more than a whole
// Milenage quintet, so a pool amortises it over many vectors. One pool per thread.

#include <cstddef>
#include <vector>

#include "proto/aka/bytes.hpp"

namespace oag::aka {

/// A per-thread batch of CSPRNG output handed out 16 bytes at a time.
class RandPool {
 public:
  /// `batch` RANDs are drawn per RAND_bytes call.
  explicit RandPool(std::size_t batch = 256);
  ~RandPool();
  RandPool(const RandPool&) = delete;
  RandPool& operator=(const RandPool&) = delete;

  /// The next RAND; throws std::runtime_error if the CSPRNG fails.
  Bytes<16> next();

 private:
  std::vector<std::uint8_t> buf_;
  std::size_t pos_;
};

}  // namespace oag::aka
