#pragma once
// The issuing side of federation: a peer AG, authenticated under its agreements, asks for
// vectors of our subscribers (DESIGN §3 federation API).

#include <map>
#include <mutex>

#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "gateway/token_buckets.hpp"
#include "proto/wire/messages.hpp"

namespace oag::gateway::federation {

/// POST /v1/federation/vectors, and the per-agreement token buckets it spends.
class Issuer {
 public:
  /// Uses `svc` for the store and metrics.
  explicit Issuer(const Services& svc) : svc_(svc) {}
  /// Issues `v` to the peer in `call.who` (a PeerPrincipal) under the agreement for the
  /// requester's realm: kinds, rate, quota and idempotency by request_id.
  void vectors(Call call, wire::VectorRequest v, Reply reply);

 private:
  // Token bucket per agreement: true when `n` vectors may pass; else the seconds until they could.
  bool take_tokens(const storage::Agreement& a, unsigned n, double& retry_after_s);

  const Services& svc_;
  TokenBuckets buckets_;
};

}  // namespace oag::gateway::federation
