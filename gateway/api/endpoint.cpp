#include "gateway/api/endpoint.hpp"

#include "gateway/api/vectors_answer.hpp"

namespace oag::gateway::api {

void EndpointApi::vectors(Call call, wire::VectorRequest v, Reply reply) {
  const auto& who = std::get<SubscriberPrincipal>(call.who);
  const std::string realm = svc_.runtime.get()->realm;
  if (ident::realm_of(v.nai) != realm) {
    // Another operator's subscriber: brokered under the agreement for that realm. Reading the
    // agreements blocks, so the rest runs on a lookup thread.
    return svc_.offload(Lane::lookup, reply, call.route,
                        [this, requester = who.nai, v, route = call.route, reply] {
                          broker_.buy(requester, v, route, reply);
                        });
  }
  storage::IssueRequest ir;
  ir.subject = v.nai;
  ir.kind = v.kind;
  ir.count = v.count;
  ir.requester = who.nai;
  ir.request_id = new_uuid();
  ir.role = storage::Role::local;
  svc_.store.issuance().issue_async(
      std::move(ir), guarded(reply, call.route,
                             [this, reply, route = call.route, kind = v.kind,
                              realm](storage::Result<storage::IssueResult> r) {
                               if (!r.ok()) return reply(store_problem(r.error(), route));
                               Response resp = vectors_answer(r.value(), kind, realm, route);
                               svc_.metrics.vectors(kind, storage::Role::local, resp.vectors);
                               reply(std::move(resp));
                             }));
}

void EndpointApi::result(Call call, wire::ResultReport report, Reply reply) {
  svc_.offload(Lane::write, reply, call.route,
               [this, id = call.params.at("id"), nai = std::get<SubscriberPrincipal>(call.who).nai,
                success = report.success, route = call.route, reply] {
                 const auto r = svc_.store.issuance().report_result(id, nai, success);
                 if (!r.ok()) return reply(store_problem(r.error(), route));
                 reply(no_content(route));
               });
}

void EndpointApi::resync(Call call, wire::ResyncRequest req, Reply reply) {
  // Only the caller's own subscription: the NAI comes from the certificate, not the body.
  svc_.offload(
      Lane::write, reply, call.route,
      [this, nai = std::get<SubscriberPrincipal>(call.who).nai, req, route = call.route, reply] {
        const auto r = svc_.store.issuance().resync(nai, req.rand, req.auts);
        if (!r.ok()) return reply(store_problem(r.error(), route));
        reply(no_content(route));
      });
}

}  // namespace oag::gateway::api
