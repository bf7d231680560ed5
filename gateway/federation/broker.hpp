#pragma once
// The requesting side of federation: our endpoint asks for another operator's subscriber; we buy
// the vectors from the peer AG under our agreement for its realm, behind a circuit breaker.

#include <string>

#include "gateway/federation/breakers.hpp"
#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "proto/wire/messages.hpp"

namespace oag::gateway::federation {

/// Brokered vector requests.
class Broker {
 public:
  /// Uses `svc` for the store and the peer client, `breakers` for the peers' breakers.
  Broker(const Services& svc, Breakers& breakers) : svc_(svc), breakers_(breakers) {}
  /// Buys `v` for `requester` (blocking store reads: call on a lookup thread).
  void buy(const std::string& requester, const wire::VectorRequest& v, const std::string& route,
           Reply reply);

 private:
  // What the peer answered, turned into our answer (after the bought record committed).
  void settle(const storage::Agreement& a, const std::string& requester,
              const wire::VectorRequest& v, const std::string& request_id, PeerReply pr,
              const std::string& route, Reply reply);

  const Services& svc_;
  Breakers& breakers_;
};

}  // namespace oag::gateway::federation
