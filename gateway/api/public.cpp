#include "gateway/api/public.hpp"

#include <nlohmann/json.hpp>

namespace oag::gateway::api {

void healthz(const Services&, Call call, Reply reply) {
  reply(plain_response(200, "text/plain", "ok\n", call.route));
}

void readyz(const Services& svc, Call call, Reply reply) {
  svc.offload(Lane::lookup, reply, call.route, [&svc, route = call.route, reply] {
    const bool ok = svc.store.healthy();
    reply(plain_response(ok ? 200 : 503, "text/plain", ok ? "ready\n" : "store unavailable\n",
                         route));
  });
}

void metrics(const Services& svc, Call call, Reply reply) {
  reply(plain_response(200, "text/plain; version=0.0.4", svc.metrics.render(svc.store.stats()),
                       call.route));
}

void agent(const Services& svc, Call call, Reply reply) {
  const nlohmann::ordered_json j{{"realm", svc.runtime.get()->realm}, {"time", wall_ms() / 1000}};
  reply(json_response(200, j.dump(), call.route));
}

}  // namespace oag::gateway::api
