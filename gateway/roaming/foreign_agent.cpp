#include "gateway/roaming/foreign_agent.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "gateway/log.hpp"
#include "proto/pki/csr.hpp"

namespace oag::gateway::roaming {

namespace {

Response disabled(const std::string& route) {
  return problem({404, "not-found", "No such resource",
                  "path: roaming logins are not enabled on this gateway"},
                 route);
}

Response rate_limited(double retry_after, std::string detail, const std::string& route) {
  auto r = problem({429, "rate-limited", "Too many logins", std::move(detail)}, route);
  r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(retry_after) + 1));
  return r;
}

bool names(const storage::Agreement& a, const std::string& realm) {
  return std::find(a.peer_realms.begin(), a.peer_realms.end(), realm) != a.peer_realms.end();
}

}  // namespace

std::variant<LoginCall, wire::Problem> parse_login(const Call& call, bool federation) {
  auto m = login::parse_login_request(call.req.body, federation);
  if (auto* p = std::get_if<wire::Problem>(&m)) return *p;
  auto csr = pki::decode_csr(std::get<login::LoginRequest>(m).csr);
  if (!std::holds_alternative<pki::Csr>(csr))
    return wire::invalid_field("csr", "not a PKCS#10 request for an EC P-256 key");
  return LoginCall{std::get<login::LoginRequest>(std::move(m)),
                   std::make_shared<pki::Csr>(std::get<pki::Csr>(std::move(csr)))};
}

void RoamingApi::visitor_login(Call call, LoginCall lc, Reply reply) {
  auto& m = lc.m;
  const auto rt = svc_.runtime.get();
  const auto& route = call.route;
  if (!rt->roaming.enabled) return reply(disabled(route));
  double retry_after = 0;
  if (!per_address_.take(call.req.conn->remote_address,
                         rt->roaming.logins_per_minute_per_address / 60.0,
                         std::max(3.0, rt->roaming.logins_per_minute_per_address / 6.0), 1,
                         steady_us(), retry_after))
    return reply(rate_limited(retry_after, "address: too many logins from it", route));
  if (m.home_realm == rt->realm) {
    // At home: no foreign agent, the home agent answers M2 itself.
    if (m.visited_realm != rt->realm)
      return reply(problem(wire::invalid_field("visited_realm", "this gateway is " + rt->realm +
                                                                    ", where the user is at home"),
                           route));
    if (!ha_.enabled()) return reply(disabled(route));
    return ha_.login(std::move(lc), Relay{}, route, reply);
  }
  if (m.visited_realm != rt->realm)
    return reply(problem(wire::invalid_field("visited_realm", "this gateway is " + rt->realm +
                                                                  ", not " + m.visited_realm),
                         route));
  m.request_id = relay_request_id(m);
  svc_.offload(Lane::lookup, reply, route, [this, m = std::move(m), route, reply]() mutable {
    const auto found = svc_.store.agreements().for_realm(m.home_realm);
    if (!found.ok()) return reply(store_problem(found.error(), route));
    const std::int64_t now = wall_ms();
    const storage::Agreement* a = nullptr;
    for (const auto& g : found.value())
      if (storage::in_force(g, now) && (g.kinds & storage::kLogin)) {
        a = &g;
        break;
      }
    if (a == nullptr || svc_.peers == nullptr)
      return reply(problem({403, "no-agreement", "No agreement covers logins of that realm",
                            "home_realm: no current agreement of kind login for " + m.home_realm},
                           route));
    const auto agreement = *a;
    const std::string body = login::to_json(m);
    svc_.peers->post(
        agreement, "/v1/federation/roaming/login", body,
        guarded(reply, route, [this, agreement, m, route, reply](PeerReply pr) mutable {
          settle(agreement, m, std::move(pr), route, reply);
        }));
  });
}

void RoamingApi::settle(const storage::Agreement& agreement, const login::LoginRequest& m,
                        PeerReply pr, const std::string& route, Reply reply) {
  if (pr.failure != PeerReply::Failure::none)
    log::warn(log::event::kPeerFailed, "peer call failed",
              {{"agreement", agreement.id}, {"peer", agreement.peer_url}, {"error", pr.error}});
  if (pr.failure == PeerReply::Failure::connect)
    return reply(problem({503, "peer-unavailable", "The home gateway is unavailable",
                          "peer: cannot connect to the home agent of " + m.home_realm},
                         route));
  if (pr.failure == PeerReply::Failure::timeout)
    return reply(problem(
        {504, "peer-timeout", "The home gateway did not answer in time", "peer: timeout"}, route));
  const auto bad_peer = [&](std::string why) {
    Response r = problem(
        {502, "peer-error", "The home gateway answered badly", "peer: malformed answer"}, route);
    r.internal = "peer " + agreement.peer_url + ": " + std::move(why);
    r.internal_event = log::event::kPeerFailed;
    return r;
  };
  if (pr.failure != PeerReply::Failure::none) return reply(bad_peer(pr.error));
  if (pr.status == 429) {
    auto r =
        problem({503, "peer-busy", "The home gateway asks to retry later", "peer: rate"}, route);
    if (!pr.retry_after.empty()) r.headers.emplace_back("Retry-After", pr.retry_after);
    return reply(std::move(r));
  }
  if (pr.status == 403)
    return reply(
        problem({403, "no-agreement", "The home gateway refuses logins from us",
                 "home_realm: " + m.home_realm + " has no agreement of kind login with us"},
                route));
  if (pr.status != 200)
    return reply(bad_peer("answered " + std::to_string(pr.status) + ": " + pr.body.substr(0, 300)));
  auto parsed = login::parse_home_answer(pr.body);
  if (auto* p = std::get_if<wire::Problem>(&parsed)) return reply(bad_peer(p->detail));
  auto& answer = std::get<login::HomeAnswer>(parsed);
  if (auto* n = std::get_if<login::Nack>(&answer)) {
    // The home agent's refusal goes to the user as it came: its proof is hers to open.
    return reply(json_response(200, login::to_json(login::VisitorAnswer(std::move(*n))), route));
  }
  auto ack = std::make_shared<login::HomeAck>(std::get<login::HomeAck>(std::move(answer)));
  if (ack->nai.empty() || ident::realm_of(ack->nai) != m.home_realm)
    return reply(bad_peer("the ACK names a user of another realm"));
  // The session and the bought record, committed before the user sees the ticket. A retry of
  // the same M2 has the same request id and Ks2, so the same session id: found, not bought twice.
  storage::LoginPurchase p;
  p.session.id = session_id(ack->ks2, m.request_id);
  p.session.nai = ack->nai;
  p.session.ks2 = ack->ks2;
  p.session.agreement = agreement.id;
  p.session.created_ms = wall_ms();
  p.session.expires_ms = p.session.created_ms + svc_.runtime.get()->roaming.cert_lifetime_s * 1000;
  p.session.certificate = ack->certificate;
  for (const auto& c : ack->chain) p.session.certificate += c;
  p.home_realm = m.home_realm;
  p.visited_realm = m.visited_realm;
  p.price_micros = agreement.price_micros;
  p.currency = agreement.currency;
  p.request_id = m.request_id;
  p.n1 = m.n1;
  const std::string sid = p.session.id;
  svc_.store.logins().purchase_async(
      std::move(p),
      guarded(reply, route, [ack, sid, route, reply](storage::Result<std::uint64_t> r) {
        if (!r.ok() && r.error().code != storage::Errc::conflict)
          return reply(store_problem(r.error(), route));
        reply(json_response(200, visitor_ack(*ack, sid), route));
      }));
}

void RoamingApi::federation_login(Call call, LoginCall lc, Reply reply) {
  const auto& m = lc.m;
  const auto& route = call.route;
  if (!ha_.enabled()) return reply(disabled(route));
  const auto rt = svc_.runtime.get();
  // The agreement first, before the seal is opened: an FA that may not relay logins, or claims
  // a visited realm that is not its own, learns nothing and leaves no NAI in our log.
  const auto& peer = std::get<PeerPrincipal>(call.who);
  const storage::Agreement* a = nullptr;
  for (const auto& g : peer.agreements)
    if ((g.kinds & storage::kLogin) && names(g, m.visited_realm)) {
      a = &g;
      break;
    }
  if (a == nullptr)
    return reply(problem({403, "no-agreement", "No agreement covers logins from this peer",
                          "visited_realm: no current agreement of kind login for " +
                              m.visited_realm + " with this peer"},
                         route));
  if (m.home_realm != rt->realm)
    return reply(problem(wire::invalid_field("home_realm", "this gateway is " + rt->realm), route));
  double retry_after = 0;
  const double instances = rt->federation_instances;
  if (!per_agreement_.take(a->id, a->rate_per_s / instances,
                           std::max(1.0, std::ceil(a->burst / instances)), 1, steady_us(),
                           retry_after))
    return reply(rate_limited(retry_after, "agreement " + a->id + ": login rate", route));
  ha_.login(std::move(lc), Relay{a->id, a->price_micros, a->currency}, route, reply);
}

void RoamingApi::visitor_renew(Call call, Reply reply) {
  const auto rt = svc_.runtime.get();
  const auto& route = call.route;
  if (!rt->roaming.enabled) return reply(disabled(route));
  std::string home_realm;
  try {
    const auto j = nlohmann::json::parse(call.req.body);
    if (!j.is_object() || j.size() != 2 || !j.contains("csr") || !j.at("csr").is_string())
      return reply(
          problem(wire::invalid_field("body", "expected {\"home_realm\",\"csr\"}"), route));
    home_realm = j.at("home_realm").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return reply(problem(wire::invalid_field("home_realm", "required, a realm"), route));
  }
  if (!ident::valid_realm(home_realm))
    return reply(problem(wire::invalid_field("home_realm", "expected a realm"), route));
  if (call.req.authorization.empty())
    return reply(problem({401, "unauthorized", "The renewal is not authenticated",
                          "authorization: OAG-Session under Ks3 required"},
                         route));
  if (home_realm == rt->realm)
    return ha_.renew(call.req.body, call.req.authorization, route, reply);
  svc_.offload(
      Lane::lookup, reply, route,
      [this, home_realm, body = call.req.body, authz = call.req.authorization, route, reply] {
        const auto found = svc_.store.agreements().for_realm(home_realm);
        if (!found.ok()) return reply(store_problem(found.error(), route));
        const storage::Agreement* a = nullptr;
        for (const auto& g : found.value())
          if (storage::in_force(g, wall_ms()) && (g.kinds & storage::kLogin)) {
            a = &g;
            break;
          }
        if (a == nullptr || svc_.peers == nullptr)
          return reply(problem({403, "no-agreement", "No agreement covers that realm",
                                "home_realm: no agreement of kind login for " + home_realm},
                               route));
        const nlohmann::json relay{{"request", body}, {"authorization", authz}};
        const auto agreement = *a;
        svc_.peers->post(
            agreement, "/v1/federation/roaming/renew", relay.dump(),
            guarded(reply, route, [agreement, route, reply](PeerReply pr) {
              if (pr.failure != PeerReply::Failure::none) {
                log::warn(log::event::kPeerFailed, "peer call failed",
                          {{"agreement", agreement.id},
                           {"peer", agreement.peer_url},
                           {"error", pr.error}});
                return reply(problem({503, "peer-unavailable", "The home gateway is unavailable",
                                      "peer: the home agent did not answer"},
                                     route));
              }
              // The home agent's answer goes back as it came (its 401 included).
              Response r = plain_response(
                  pr.status, pr.status == 200 ? "application/json" : "application/problem+json",
                  pr.body, route);
              reply(std::move(r));
            }));
      });
}

void RoamingApi::federation_renew(Call call, Reply reply) {
  const auto& route = call.route;
  const auto& peer = std::get<PeerPrincipal>(call.who);
  bool allowed = false;
  for (const auto& g : peer.agreements) allowed |= (g.kinds & storage::kLogin) != 0;
  if (!allowed)
    return reply(problem({403, "no-agreement", "No agreement covers logins from this peer",
                          "agreement: none of kind login with this peer"},
                         route));
  std::string body, authz;
  try {
    const auto j = nlohmann::json::parse(call.req.body);
    body = j.at("request").get<std::string>();
    authz = j.at("authorization").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return reply(
        problem(wire::invalid_field("request", "expected {\"request\",\"authorization\"}"), route));
  }
  ha_.renew(std::move(body), std::move(authz), route, reply);
}

}  // namespace oag::gateway::roaming
