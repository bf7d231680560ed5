#pragma once
// Token buckets by key (an agreement, a NAI, a client address): the one rate limiter of the
// handlers. Bounded: when it holds `max_keys` buckets, those that have refilled are dropped, and
// while it stays full a new key is refused (a flood of strangers cannot grow it without bound).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace oag::gateway {

/// Buckets by key; thread-safe.
class TokenBuckets {
 public:
  /// At most `max_keys` buckets at once.
  explicit TokenBuckets(std::size_t max_keys = 100'000) : max_keys_(max_keys) {}
  /// Takes `n` tokens from `key`'s bucket (`rate_per_s`, depth `burst`; a new bucket is full) at
  /// steady time `now_us`; false with the seconds until they would be there.
  bool take(const std::string& key, double rate_per_s, double burst, double n, std::int64_t now_us,
            double& retry_after_s);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t last_us = 0;
    double burst = 0;
  };
  std::size_t max_keys_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

/// Monotonic microseconds (what take() is given in production).
std::int64_t steady_us();

}  // namespace oag::gateway
