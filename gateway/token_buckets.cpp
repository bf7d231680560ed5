#include "gateway/token_buckets.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace oag::gateway {

std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool TokenBuckets::take(const std::string& key, double rate_per_s, double burst, double n,
                        std::int64_t now_us, double& retry_after_s) {
  std::lock_guard lk(mu_);
  if (buckets_.size() >= max_keys_ && !buckets_.count(key)) {
    // Drop the buckets that are full again: forgetting them changes nothing.
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const auto& b = it->second;
      const bool full = b.tokens + (now_us - b.last_us) / 1e6 * rate_per_s >= b.burst;
      it = full ? buckets_.erase(it) : std::next(it);
    }
    if (buckets_.size() >= max_keys_) {
      retry_after_s = burst / std::max(rate_per_s, 1e-9);
      return false;
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  b.burst = burst;
  b.tokens = fresh ? burst : std::min(burst, b.tokens + (now_us - b.last_us) / 1e6 * rate_per_s);
  b.last_us = now_us;
  if (b.tokens >= n) {
    b.tokens -= n;
    return true;
  }
  retry_after_s = (n - b.tokens) / std::max(rate_per_s, 1e-9);
  return false;
}

}  // namespace oag::gateway
