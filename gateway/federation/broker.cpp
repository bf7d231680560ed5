#include "gateway/federation/broker.hpp"

#include <nlohmann/json.hpp>

#include <memory>

#include "gateway/log.hpp"

namespace oag::gateway::federation {

void Broker::buy(const std::string& requester, const wire::VectorRequest& v,
                 const std::string& route, Reply reply) {
  const std::string realm(ident::realm_of(v.nai));
  const auto found = svc_.store.agreements().for_realm(realm);
  if (!found.ok()) return reply(store_problem(found.error(), route));
  const std::int64_t now = wall_ms();
  const storage::Agreement* a = nullptr;
  for (const auto& g : found.value())
    if (storage::in_force(g, now) && (g.kinds & storage::mask_of(v.kind))) {
      a = &g;
      break;
    }
  if (a == nullptr || svc_.peers == nullptr)
    return reply(problem(
        {403, "no-agreement", "No agreement covers that realm",
         "nai: no current agreement for realm " + realm + " and kind " + ident::to_string(v.kind)},
        route));
  if (!breakers_.allows(a->id))
    return reply(problem({503, "peer-unavailable", "The peer gateway is unavailable",
                          "peer: " + realm + " failed repeatedly; retrying later"},
                         route));
  const std::string request_id = new_uuid();
  nlohmann::ordered_json body{{"nai", v.nai},
                              {"kind", ident::to_string(v.kind)},
                              {"count", v.count},
                              {"requester", requester},
                              {"request_id", request_id}};
  svc_.peers->post(
      *a, "/v1/federation/vectors", body.dump(),
      guarded(reply, route,
              [this, agreement = *a, requester, v, request_id, route, reply](PeerReply pr) mutable {
                settle(agreement, requester, v, request_id, std::move(pr), route, reply);
              }));
}

void Broker::settle(const storage::Agreement& agreement, const std::string& requester,
                    const wire::VectorRequest& v, const std::string& request_id, PeerReply pr,
                    const std::string& route, Reply reply) {
  const bool transport = pr.failure != PeerReply::Failure::none;
  breakers_.record(agreement.id, transport || pr.status >= 500);
  if (transport)
    log::warn(log::event::kPeerFailed, "peer call failed",
              {{"agreement", agreement.id}, {"peer", agreement.peer_url}, {"error", pr.error}});
  if (pr.failure == PeerReply::Failure::connect)
    return reply(problem(
        {503, "peer-unavailable", "The peer gateway is unavailable", "peer: cannot connect"},
        route));
  if (pr.failure == PeerReply::Failure::timeout)
    return reply(problem(
        {504, "peer-timeout", "The peer gateway did not answer in time", "peer: timeout"}, route));
  const auto bad_peer = [&](std::string detail, std::string why) {
    Response r =
        problem({502, "peer-error", "The peer gateway answered badly", std::move(detail)}, route);
    r.internal = "peer " + agreement.peer_url + ": " + std::move(why);
    r.internal_event = log::event::kPeerFailed;
    return r;
  };
  if (transport || pr.status != 200) {
    Response r;
    if (pr.status == 404) {
      r = problem({404, "not-found", "No such subscriber", "nai: " + v.nai}, route);
    } else if (pr.status == 429) {
      r = problem({503, "peer-busy", "The peer gateway asks to retry later", "peer: rate or quota"},
                  route);
      if (!pr.retry_after.empty()) r.headers.emplace_back("Retry-After", pr.retry_after);
    } else {
      return reply(bad_peer(
          "peer: status " + std::to_string(pr.status),
          "answered " + std::to_string(pr.status) + ": " + pr.body.substr(0, 300) + pr.error));
    }
    return reply(std::move(r));
  }
  auto parsed = wire::parse_vectors_response(pr.body);
  if (auto* p = std::get_if<wire::Problem>(&parsed))
    return reply(bad_peer("peer: malformed answer", p->detail));
  auto vectors = std::make_shared<std::vector<wire::WireVector>>(
      std::get<wire::VectorsAnswer>(std::move(parsed)).vectors);
  if (vectors->size() != v.count)
    return reply(bad_peer("peer: wrong count", std::to_string(vectors->size()) + " vectors"));
  // Bought, committed before the endpoint sees the vectors.
  storage::PurchaseRecord p;
  p.requester = requester;
  p.subject = v.nai;
  p.kind = v.kind;
  p.count = v.count;
  p.agreement = agreement.id;
  p.price_micros = agreement.price_micros;
  p.currency = agreement.currency;
  p.request_id = request_id;
  for (const auto& w : *vectors) {
    p.rands.push_back(w.rand);
    p.ids.push_back(w.id);
  }
  svc_.store.issuance().record_purchase_async(
      std::move(p),
      guarded(reply, route,
              [this, vectors, nai = v.nai, kind = v.kind, route,
               reply](storage::Result<std::uint64_t> r) {
                if (!r.ok()) return reply(store_problem(r.error(), route));
                svc_.metrics.vectors(kind, storage::Role::bought,
                                     static_cast<unsigned>(vectors->size()));
                Response resp = json_response(
                    200, wire::vectors_response(nai, std::string(ident::realm_of(nai)), *vectors),
                    route);
                resp.vectors = static_cast<unsigned>(vectors->size());
                reply(std::move(resp));
              }));
}

}  // namespace oag::gateway::federation
