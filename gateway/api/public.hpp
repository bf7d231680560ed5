#pragma once
// Routes that need no authentication: the ops listener's /healthz, /readyz, /metrics, and the
// visitor listener's GET /v1/agent (DESIGN §7 M1).

#include "gateway/router.hpp"
#include "gateway/services.hpp"

namespace oag::gateway::api {

/// GET /healthz: the process answers.
void healthz(const Services& svc, Call call, Reply reply);
/// GET /readyz: the store answers (on a lookup thread).
void readyz(const Services& svc, Call call, Reply reply);
/// GET /metrics: Prometheus text.
void metrics(const Services& svc, Call call, Reply reply);
/// GET /v1/agent: {"realm","time"}: which operator a visitor reached, and its clock (Unix s).
void agent(const Services& svc, Call call, Reply reply);

}  // namespace oag::gateway::api
