#pragma once
// Per-agreement circuit breakers for calls to peer gateways: after `peers.breaker_failures`
// failures in a row the breaker opens for `peers.breaker_open_ms`, then lets one probe through.
// Shared by every kind of brokered call (vectors, certificate lookups), since they reach the
// same peer.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "gateway/metrics.hpp"
#include "gateway/runtime.hpp"

namespace oag::gateway::federation {

/// The breakers of every agreement.
class Breakers {
 public:
  /// Reads the thresholds from the configuration in force at each call; reports each breaker's
  /// state to `metrics`.
  Breakers(const Runtime& runtime, Metrics& metrics) : runtime_(runtime), metrics_(metrics) {}
  /// True when a call under `agreement` may go out now (closed, or the half-open probe).
  bool allows(const std::string& agreement);
  /// Records how a call that allows() let through ended.
  void record(const std::string& agreement, bool failure);

 private:
  struct Breaker {
    unsigned failures = 0;
    std::int64_t open_until_ms = 0;
    bool probing = false;
  };
  const Runtime& runtime_;
  Metrics& metrics_;
  std::mutex mu_;
  std::map<std::string, Breaker> breakers_;
};

}  // namespace oag::gateway::federation
