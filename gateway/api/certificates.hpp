#pragma once
// The certificate lookup of DESIGN §8: GET /v1/certificates/{nai} for our endpoints (our own
// subscribers from the store; another realm's bought from its home under an agreement of kind
// `certificates`, whose user CA is the anchor we vouch for), GET
// /v1/federation/certificates/{nai} for peers (sold), and GET /v1/public/certificates/{serial}.pem
// (the `x5u` of an Identity header, no authentication). Revoked and expired certificates are
// never returned.

#include "gateway/federation/breakers.hpp"
#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "gateway/token_buckets.hpp"
#include "proto/wire/certificates.hpp"

namespace oag::gateway::api {

/// Handlers of the three lookup routes.
class CertificatesApi {
 public:
  /// Uses `svc`; brokered lookups go through the peers' `breakers`.
  CertificatesApi(const Services& svc, federation::Breakers& breakers)
      : svc_(svc), breakers_(breakers) {}
  /// GET /v1/certificates/{nai} (endpoint listener, a SubscriberPrincipal).
  void lookup(Call call, Reply reply);
  /// GET /v1/federation/certificates/{nai}?requester=NAI&request_id=ID (a PeerPrincipal).
  void federation(Call call, Reply reply);
  /// GET /v1/public/certificates/{serial}.pem (visitor listener): the leaf and its chain.
  void public_pem(Call call, Reply reply);

 private:
  // Our subscriber's valid certificates (blocking: on a lookup thread); a problem when none.
  std::variant<wire::CertificatesAnswer, Response> own(const std::string& nai,
                                                       const std::string& route) const;
  // Buys the lookup from the subject's home (on a lookup thread; answers asynchronously).
  void broker(const std::string& requester, const std::string& nai, const std::string& route,
              Reply reply);
  const Services& svc_;
  federation::Breakers& breakers_;
  // Peers' lookups, per agreement at its rate and burst (÷ federation.instances), counted apart
  // from its vectors: a lookup issues nothing secret, but each one bills.
  TokenBuckets buckets_;
};

}  // namespace oag::gateway::api
