#include "gateway/api/public.hpp"

#include <nlohmann/json.hpp>

namespace oag::gateway::api {

namespace {

Response text(int status, std::string body, std::string route) {
  Response r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  r.route = std::move(route);
  return r;
}

}  // namespace

void healthz(const Services&, Call call, Reply reply) {
  reply(text(200, "ok\n", call.route));
}

void readyz(const Services& svc, Call call, Reply reply) {
  svc.offload(Lane::lookup, reply, call.route, [&svc, route = call.route, reply] {
    const bool ok = svc.store.healthy();
    reply(text(ok ? 200 : 503, ok ? "ready\n" : "store unavailable\n", route));
  });
}

void metrics(const Services& svc, Call call, Reply reply) {
  Response r = text(200, svc.metrics.render(svc.store.stats()), call.route);
  r.content_type = "text/plain; version=0.0.4";
  reply(std::move(r));
}

void agent(const Services& svc, Call call, Reply reply) {
  const nlohmann::ordered_json j{{"realm", svc.runtime.get()->realm}, {"time", wall_ms() / 1000}};
  reply(json_response(200, j.dump(), call.route));
}

}  // namespace oag::gateway::api
