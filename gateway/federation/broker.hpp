#pragma once
// The requesting side of federation: our endpoint asks for another operator's subscriber; we buy
// the vectors from the peer AG under our agreement for its realm, behind a circuit breaker.

#include <map>
#include <mutex>
#include <string>

#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "proto/wire/messages.hpp"

namespace oag::gateway::federation {

/// Brokered vector requests and the per-agreement circuit breakers.
class Broker {
 public:
  /// Uses `svc` for the store, the peer client and the breaker settings in force.
  explicit Broker(const Services& svc) : svc_(svc) {}
  /// Buys `v` for `requester` (blocking store reads: call on a lookup thread).
  void buy(const std::string& requester, const wire::VectorRequest& v, const std::string& route,
           Reply reply);

 private:
  bool breaker_allows(const std::string& agreement);
  void breaker_record(const std::string& agreement, bool failure);
  // What the peer answered, turned into our answer (after the bought record committed).
  void settle(const storage::Agreement& a, const std::string& requester,
              const wire::VectorRequest& v, const std::string& request_id, PeerReply pr,
              const std::string& route, Reply reply);

  struct Breaker {
    unsigned failures = 0;
    std::int64_t open_until_ms = 0;
    bool probing = false;
  };
  const Services& svc_;
  std::mutex mu_;
  std::map<std::string, Breaker> breakers_;
};

}  // namespace oag::gateway::federation
