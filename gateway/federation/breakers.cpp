#include "gateway/federation/breakers.hpp"

#include "gateway/services.hpp"

namespace oag::gateway::federation {

bool Breakers::allows(const std::string& agreement) {
  const auto rt = runtime_.get();
  std::lock_guard lk(mu_);
  Breaker& b = breakers_[agreement];
  if (b.failures < rt->peers.breaker_failures) return true;
  if (wall_ms() < b.open_until_ms || b.probing) return false;
  b.probing = true;  // half open: one request probes the peer
  return true;
}

void Breakers::record(const std::string& agreement, bool failure) {
  const auto rt = runtime_.get();
  std::lock_guard lk(mu_);
  Breaker& b = breakers_[agreement];
  b.probing = false;
  if (!failure) {
    b.failures = 0;
    metrics_.peer_breaker(agreement, false);
    return;
  }
  if (++b.failures >= rt->peers.breaker_failures)
    b.open_until_ms = wall_ms() + rt->peers.breaker_open_ms;
  metrics_.peer_breaker(agreement, b.failures >= rt->peers.breaker_failures);
}

}  // namespace oag::gateway::federation
