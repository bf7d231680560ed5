#include "proto/aka/rand_pool.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace oag::aka {

RandPool::RandPool(std::size_t batch)
    : buf_(16 * std::max<std::size_t>(batch, 1)), pos_(buf_.size()) {}

RandPool::~RandPool() {
  OPENSSL_cleanse(buf_.data(), buf_.size());
}

Bytes<16> RandPool::next() {
  if (pos_ == buf_.size()) {
    if (RAND_bytes(buf_.data(), static_cast<int>(buf_.size())) != 1)
      throw std::runtime_error("OpenSSL: RAND_bytes failed");
    pos_ = 0;
  }
  Bytes<16> r{};
  std::copy_n(buf_.begin() + static_cast<std::ptrdiff_t>(pos_), 16, r.begin());
  OPENSSL_cleanse(buf_.data() + pos_, 16);  // a RAND handed out is not kept here
  pos_ += 16;
  return r;
}

}  // namespace oag::aka
