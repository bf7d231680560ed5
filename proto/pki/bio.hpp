#pragma once
// Memory BIOs for the proto/pki sources (X.509, S/MIME): owned, made from bytes, read back.

#include <openssl/bio.h>

#include <memory>
#include <string>
#include <string_view>

namespace oag::pki {

/// Frees a BIO and whatever it is chained to.
struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
/// An owned BIO.
using Bio = std::unique_ptr<BIO, BioFree>;

/// A read-only memory BIO over `s` (which must outlive it).
inline Bio read_bio(std::string_view s) {
  return Bio(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

/// What a memory BIO holds.
inline std::string drain(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace oag::pki
