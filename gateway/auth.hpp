#pragma once
// The authenticators of the route table: an endpoint subscriber by its client certificate, a
// federation peer by its certificate under an agreement. Both read the store on a lookup thread.

#include "gateway/router.hpp"
#include "gateway/services.hpp"

namespace oag::gateway {

/// Endpoint listener: the certificate's NAI is an active subscriber of ours and the certificate
/// is not revoked. A connection reuses its last verdict for limits.authorization_cache_ms.
class EndpointAuthenticator final : public Authenticator {
 public:
  /// Uses `svc` for the store, its lookup threads and the cache setting in force.
  explicit EndpointAuthenticator(const Services& svc) : svc_(svc) {}
  void authenticate(const Request& req, const std::string& route,
                    std::function<void(std::variant<Principal, Response>)> done) override;

 private:
  const Services& svc_;
};

/// Federation listener: the peer's chain satisfies the trust (CA file or SPKI pin) of at least
/// one agreement in force; the principal carries those agreements. Refused with 403
/// `no-agreement` before its body is looked at.
class PeerAuthenticator final : public Authenticator {
 public:
  /// Uses `svc` for the store and its lookup threads.
  explicit PeerAuthenticator(const Services& svc) : svc_(svc) {}
  void authenticate(const Request& req, const std::string& route,
                    std::function<void(std::variant<Principal, Response>)> done) override;

 private:
  const Services& svc_;
};

}  // namespace oag::gateway
