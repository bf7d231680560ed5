#pragma once
// oagd's route table: every route of every listener, one declaration each (the closing note of
// the front-door issue lists it), and the handlers it names.

#include <vector>

#include "gateway/api/certificates.hpp"
#include "gateway/api/endpoint.hpp"
#include "gateway/api/enroll.hpp"
#include "gateway/federation/broker.hpp"
#include "gateway/federation/issuer.hpp"
#include "gateway/roaming/charges.hpp"
#include "gateway/roaming/foreign_agent.hpp"
#include "gateway/roaming/home_agent.hpp"
#include "gateway/router.hpp"
#include "gateway/services.hpp"

namespace oag::gateway {

/// The handlers with state (breakers, token buckets) and the table that routes to them.
class Routes {
 public:
  /// Handlers over `svc` (which must outlive this).
  explicit Routes(const Services& svc)
      : svc_(svc),
        breakers_(svc.runtime, svc.metrics),
        broker_(svc, breakers_),
        issuer_(svc),
        certificates_(svc, breakers_),
        endpoint_(svc, broker_),
        enroll_(svc),
        home_agent_(svc),
        roaming_(svc, home_agent_),
        charges_(svc) {}
  /// Every route of oagd.
  std::vector<Route> table();

 private:
  const Services& svc_;
  federation::Breakers breakers_;
  federation::Broker broker_;
  federation::Issuer issuer_;
  api::CertificatesApi certificates_;
  api::EndpointApi endpoint_;
  api::EnrollApi enroll_;
  roaming::HomeAgent home_agent_;
  roaming::RoamingApi roaming_;
  roaming::ChargesApi charges_;
};

}  // namespace oag::gateway
