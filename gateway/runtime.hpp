#pragma once
// The configuration in force: one immutable snapshot, replaced whole on SIGHUP and read per
// request, so that a request sees one consistent configuration and a reload needs no locks in
// the handlers beyond taking the pointer.

#include <cstdint>
#include <memory>
#include <mutex>

#include "config/config.hpp"

namespace oag::gateway {

/// The current configuration snapshot.
class Runtime {
 public:
  /// Starts with `first`.
  explicit Runtime(config::Config first)
      : current_(std::make_shared<const config::Config>(std::move(first))) {}

  /// The snapshot in force now (kept alive by the caller for as long as it needs it).
  std::shared_ptr<const config::Config> get() const {
    std::lock_guard lk(mu_);
    return current_;
  }
  /// Replaces the snapshot; returns the new generation.
  std::uint64_t set(std::shared_ptr<const config::Config> next) {
    std::lock_guard lk(mu_);
    current_ = std::move(next);
    return ++generation_;
  }
  /// How many times set() ran (caches keyed by it rebuild after a reload).
  std::uint64_t generation() const {
    std::lock_guard lk(mu_);
    return generation_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> current_;
  std::uint64_t generation_ = 0;
};

}  // namespace oag::gateway
