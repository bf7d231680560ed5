#pragma once
// The endpoint API (DESIGN §3): vectors for our own endpoints (issued here, or bought from the
// subject's operator), result reports, resynchronisation of the caller's own SIM.

#include "gateway/federation/broker.hpp"
#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "proto/wire/messages.hpp"

namespace oag::gateway::api {

/// Handlers of the endpoint listener; `call.who` is a SubscriberPrincipal.
class EndpointApi {
 public:
  /// Uses `svc`; brokers other realms' vectors through `broker`.
  EndpointApi(const Services& svc, federation::Broker& broker) : svc_(svc), broker_(broker) {}
  /// POST /v1/vectors.
  void vectors(Call call, wire::VectorRequest v, Reply reply);
  /// POST /v1/vectors/{id}/result (a store write: on the write lane).
  void result(Call call, wire::ResultReport r, Reply reply);
  /// POST /v1/resync, for the certificate's own subscription (on the write lane).
  void resync(Call call, wire::ResyncRequest r, Reply reply);

 private:
  const Services& svc_;
  federation::Broker& broker_;
};

}  // namespace oag::gateway::api
