#include "gateway/federation/issuer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

#include "gateway/api/vectors_answer.hpp"

namespace oag::gateway::federation {

namespace {

// Start of the quota period that contains `now` (UTC midnight, or the first of the month).
std::int64_t period_start(const std::string& period, std::int64_t now) {
  const time_t s = static_cast<time_t>(now / 1000);
  struct tm t {};
  gmtime_r(&s, &t);
  t.tm_hour = t.tm_min = t.tm_sec = 0;
  if (period == "month") t.tm_mday = 1;
  return static_cast<std::int64_t>(timegm(&t)) * 1000;
}

}  // namespace

bool Issuer::take_tokens(const storage::Agreement& a, unsigned n, double& retry_after_s) {
  // Each of `federation.instances` instances gets its share of the agreement's rate (DESIGN §10).
  const double instances = svc_.runtime.get()->federation_instances;
  return buckets_.take(a.id, a.rate_per_s / instances,
                       std::max(1.0, std::ceil(a.burst / instances)), n, steady_us(),
                       retry_after_s);
}

void Issuer::vectors(Call call, wire::VectorRequest v, Reply reply) {
  const auto& route = call.route;
  const auto& peer = std::get<PeerPrincipal>(call.who);
  const std::string requester_realm(ident::realm_of(v.requester));
  const storage::Agreement* match = nullptr;
  for (const auto& a : peer.agreements)
    if (std::find(a.peer_realms.begin(), a.peer_realms.end(), requester_realm) !=
        a.peer_realms.end()) {
      match = &a;
      break;
    }
  if (match == nullptr)
    return reply(problem({403, "no-agreement", "No active agreement covers this peer and realm",
                          "requester: no current agreement for realm " + requester_realm},
                         route));
  const auto& a = *match;
  const std::string& realm = svc_.runtime.get()->realm;
  if (ident::realm_of(v.nai) != realm)
    return reply(problem({403, "not-our-subscriber", "This gateway serves only its own realm",
                          "nai: realm " + std::string(ident::realm_of(v.nai)) + " is not " + realm},
                         route));
  if ((a.kinds & storage::mask_of(v.kind)) == 0)
    return reply(
        problem({403, "kind-not-agreed", "The agreement does not cover this kind",
                 "kind: " + std::string(ident::to_string(v.kind)) + " is not in agreement " + a.id},
                route));
  double retry_after = 0;
  if (!take_tokens(a, v.count, retry_after)) {
    auto r = problem(
        {429, "rate-limited", "The agreement's rate is exceeded", "agreement " + a.id + ": rate"},
        route);
    r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(retry_after) + 1));
    return reply(std::move(r));
  }
  storage::IssueRequest ir;
  ir.subject = v.nai;
  ir.kind = v.kind;
  ir.count = v.count;
  ir.requester = v.requester;
  ir.request_id = v.request_id;
  ir.role = storage::Role::sold;
  ir.agreement = a.id;
  ir.peer = a.id;  // idempotency keys are per peer (the agreement identifies it)
  ir.price_micros = a.price_micros;
  ir.currency = a.currency;
  ir.quota = a.quota;
  ir.quota_period_start_ms = period_start(a.quota_period, wall_ms());
  svc_.store.issuance().issue_async(
      std::move(ir),
      guarded(reply, route,
              [this, reply, route, kind = v.kind, realm](storage::Result<storage::IssueResult> r) {
                if (!r.ok()) return reply(store_problem(r.error(), route));
                Response resp = api::vectors_answer(r.value(), kind, realm, route);
                if (!r.value().replayed)
                  svc_.metrics.vectors(kind, storage::Role::sold, resp.vectors);
                reply(std::move(resp));
              }));
}

}  // namespace oag::gateway::federation
