#include "gateway/api/certificates.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "gateway/log.hpp"
#include "proto/aka/hex.hpp"
#include "proto/ident/ident.hpp"
#include "proto/pki/verify.hpp"
#include "proto/pki/x509.hpp"

namespace oag::gateway::api {

namespace {

// The {nai} path parameter, decoded and checked; a problem naming `nai` otherwise.
std::optional<wire::Problem> nai_param(const Call& call, std::string& nai) {
  const auto it = call.params.find("nai");
  if (it == call.params.end() || !wire::percent_decode(it->second, nai) || !ident::valid_nai(nai))
    return wire::invalid_field("nai", "user@realm expected");
  return std::nullopt;
}

std::string serials_sha256(const std::vector<wire::CertEntry>& certs) {
  std::string all;
  for (const auto& c : certs) all += c.serial + "\n";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(all.data(), all.size(), md, &len, EVP_sha256(), nullptr);
  return aka::to_hex(aka::ByteView(md, len));
}

// The billing record of a lookup of `nai` answered with `a` under `agreement`.
storage::CertLookupRecord lookup_record(storage::Role role, const std::string& requester,
                                        const std::string& nai, const storage::Agreement& agreement,
                                        const wire::CertificatesAnswer& a,
                                        const std::string& request_id) {
  storage::CertLookupRecord rec;
  rec.role = role;
  rec.requester = requester;
  rec.subject = nai;
  rec.agreement = agreement.id;
  rec.count = static_cast<unsigned>(a.certificates.size());
  rec.unit_price_micros = agreement.price_micros;
  rec.currency = agreement.currency;
  rec.request_id = request_id;
  rec.serials_sha256 = serials_sha256(a.certificates);
  return rec;
}

wire::Problem no_certificate(const std::string& nai) {
  return {404, "no-certificate", "No valid certificate",
          "nai: " + nai + " has no valid, unrevoked certificate"};
}

}  // namespace

std::variant<wire::CertificatesAnswer, Response> CertificatesApi::own(
    const std::string& nai, const std::string& route) const {
  const auto certs = svc_.store.endpoints().list(nai);
  if (!certs.ok()) return store_problem(certs.error(), route);
  const std::int64_t now = wall_ms();
  wire::CertificatesAnswer a;
  a.subject = nai;
  for (const auto& c : certs.value()) {  // newest first
    if (c.revoked_ms || c.not_after_ms <= now || c.pem.empty()) continue;
    a.certificates.push_back({c.serial, c.pem, c.not_after_ms / 1000});
    if (a.certificates.size() == wire::kMaxLookupCertificates) break;
  }
  if (a.certificates.empty()) return problem(no_certificate(nai), route);
  if (svc_.cert_issuer) a.chain.push_back(svc_.cert_issuer->ca_pem());
  return a;
}

void CertificatesApi::lookup(Call call, Reply reply) {
  const auto& route = call.route;
  std::string nai;
  if (const auto p = nai_param(call, nai)) return reply(problem(*p, route));
  const auto requester = std::get<SubscriberPrincipal>(call.who).nai;
  svc_.offload(Lane::lookup, reply, route, [this, nai, requester, route, reply] {
    const auto rt = svc_.runtime.get();
    if (ident::lower(ident::realm_of(nai)) != ident::lower(rt->realm))
      return broker(requester, nai, route, reply);
    auto found = own(nai, route);
    if (auto* r = std::get_if<Response>(&found)) return reply(std::move(*r));
    auto& a = std::get<wire::CertificatesAnswer>(found);
    a.anchor = read_text_file(rt->pki.endpoint_ca_cert);  // our own users' CA
    reply(json_response(200, wire::certificates_response(a), route));
  });
}

void CertificatesApi::broker(const std::string& requester, const std::string& nai,
                             const std::string& route, Reply reply) {
  const std::string realm(ident::realm_of(nai));
  const auto found = svc_.store.agreements().for_realm(realm);
  if (!found.ok()) return reply(store_problem(found.error(), route));
  const storage::Agreement* a = nullptr;
  for (const auto& g : found.value())
    if (storage::in_force(g, wall_ms()) && (g.kinds & storage::kCertificates) &&
        !g.user_ca_file.empty()) {
      a = &g;
      break;
    }
  if (a == nullptr || svc_.peers == nullptr)
    return reply(
        problem({403, "no-agreement", "No agreement covers that realm",
                 "nai: no current agreement for realm " + realm + " and kind certificates"},
                route));
  if (!breakers_.allows(a->id))
    return reply(problem({503, "peer-unavailable", "The peer gateway is unavailable",
                          "peer: " + realm + " failed repeatedly; retrying later"},
                         route));
  // The anchor we vouch for: the user CA our agreement names for that realm.
  auto anchor = std::make_shared<std::string>(read_text_file(a->user_ca_file));
  const std::string request_id = new_uuid();
  const std::string path = "/v1/federation/certificates/" + wire::percent_encode(nai) +
                           "?requester=" + wire::percent_encode(requester) +
                           "&request_id=" + request_id;
  svc_.peers->get(
      *a, path,
      guarded(
          reply, route,
          [this, agreement = *a, anchor, requester, nai, request_id, route, reply](PeerReply pr) {
            const bool transport = pr.failure != PeerReply::Failure::none;
            breakers_.record(agreement.id, transport || pr.status >= 500);
            if (pr.failure == PeerReply::Failure::connect)
              return reply(problem({503, "peer-unavailable", "The peer gateway is unavailable",
                                    "peer: cannot connect"},
                                   route));
            if (pr.failure == PeerReply::Failure::timeout)
              return reply(problem(
                  {504, "peer-timeout", "The peer gateway did not answer in time", "peer: timeout"},
                  route));
            const auto bad_peer = [&](const std::string& why) {
              Response r = problem(
                  {502, "peer-error", "The peer gateway answered badly", "peer: " + why}, route);
              r.internal = "peer " + agreement.peer_url + ": " + why;
              r.internal_event = log::event::kPeerFailed;
              return r;
            };
            if (!transport && pr.status == 404) return reply(problem(no_certificate(nai), route));
            if (!transport && pr.status == 429) {
              auto r = problem(
                  {503, "peer-busy", "The peer gateway asks to retry later", "peer: rate"}, route);
              if (!pr.retry_after.empty()) r.headers.emplace_back("Retry-After", pr.retry_after);
              return reply(std::move(r));
            }
            if (transport || pr.status != 200)
              return reply(bad_peer("status " + std::to_string(pr.status) + " " +
                                    pr.body.substr(0, 200) + pr.error));
            auto parsed = wire::parse_certificates_response(pr.body, false);
            if (auto* p = std::get_if<wire::Problem>(&parsed))
              return reply(bad_peer("malformed answer: " + p->detail));
            auto ans = std::make_shared<wire::CertificatesAnswer>(
                std::get<wire::CertificatesAnswer>(std::move(parsed)));
            if (ans->subject != nai) return reply(bad_peer("answer for another subject"));
            // Every certificate must chain to the anchor we vouch for and name the subject:
            // the peer may serve only what its user CA says.
            const auto anchors = pki::certs_from_pem(*anchor);
            std::vector<pki::Cert> chain;
            for (const auto& c : ans->chain) chain.push_back(pki::cert_from_pem(c));
            std::vector<const X509*> inter, roots;
            for (const auto& c : chain)
              if (c) inter.push_back(c.get());
            for (const auto& c : anchors) roots.push_back(c.get());
            for (const auto& e : ans->certificates) {
              const auto leaf = pki::cert_from_pem(e.pem);
              if (!leaf || pki::serial_hex(leaf.get()) != e.serial ||
                  ident::lower(pki::subject_nai(leaf.get())) != ident::lower(nai))
                return reply(bad_peer("certificate " + e.serial + " is not " + nai + "'s"));
              if (const auto bad = pki::verify_chain(leaf.get(), inter, roots, pki::Purpose::any,
                                                     wall_ms() / 1000))
                return reply(bad_peer("certificate " + e.serial + " does not chain to agreement " +
                                      agreement.id + "'s user CA: " + bad->detail));
            }
            ans->anchor = *anchor;
            auto rec =
                lookup_record(storage::Role::bought, requester, nai, agreement, *ans, request_id);
            svc_.store.endpoints().bill_lookup_async(
                std::move(rec),
                guarded(reply, route, [ans, route, reply](storage::Result<std::uint64_t> r) {
                  if (!r.ok()) return reply(store_problem(r.error(), route));
                  reply(json_response(200, wire::certificates_response(*ans), route));
                }));
          }));
}

void CertificatesApi::federation(Call call, Reply reply) {
  const auto& route = call.route;
  std::string nai;
  if (const auto p = nai_param(call, nai)) return reply(problem(*p, route));
  const auto requester = query_param(call.req, "requester").value_or("");
  if (!ident::valid_nai(requester))
    return reply(problem(wire::invalid_field("requester", "user@realm expected"), route));
  const auto request_id = query_param(call.req, "request_id").value_or("");
  if (!ident::valid_request_id(request_id))
    return reply(problem(wire::invalid_field("request_id", "1..64 hex digits and '-'"), route));
  const auto rt = svc_.runtime.get();
  if (ident::lower(ident::realm_of(nai)) != ident::lower(rt->realm))
    return reply(
        problem({403, "not-our-subscriber", "This gateway serves only its own realm",
                 "nai: realm " + std::string(ident::realm_of(nai)) + " is not " + rt->realm},
                route));
  const std::string requester_realm = ident::lower(ident::realm_of(requester));
  const storage::Agreement* match = nullptr;
  for (const auto& a : std::get<PeerPrincipal>(call.who).agreements)
    for (const auto& r : a.peer_realms)
      if (ident::lower(r) == requester_realm && (a.kinds & storage::kCertificates)) match = &a;
  if (match == nullptr)
    return reply(problem(
        {403, "no-agreement", "No active agreement covers this lookup",
         "requester: no current agreement of kind certificates for realm " + requester_realm},
        route));
  const double instances = rt->federation_instances;
  double retry_after = 0;
  if (!buckets_.take(match->id, match->rate_per_s / instances,
                     std::max(1.0, std::ceil(match->burst / instances)), 1, steady_us(),
                     retry_after)) {
    auto r = problem({429, "rate-limited", "The agreement's rate is exceeded",
                      "agreement " + match->id + ": rate"},
                     route);
    r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(retry_after) + 1));
    return reply(std::move(r));
  }
  svc_.offload(Lane::lookup, reply, route,
               [this, a = *match, nai, requester, request_id, route, reply] {
                 auto found = own(nai, route);
                 if (auto* r = std::get_if<Response>(&found)) return reply(std::move(*r));
                 auto ans = std::make_shared<wire::CertificatesAnswer>(
                     std::get<wire::CertificatesAnswer>(std::move(found)));
                 auto rec = lookup_record(storage::Role::sold, requester, nai, a, *ans, request_id);
                 // Sold, committed before the peer sees the certificates.
                 svc_.store.endpoints().bill_lookup_async(
                     std::move(rec),
                     guarded(reply, route, [ans, route, reply](storage::Result<std::uint64_t> r) {
                       if (!r.ok()) return reply(store_problem(r.error(), route));
                       reply(json_response(200, wire::certificates_response(*ans), route));
                     }));
               });
}

void CertificatesApi::public_pem(Call call, Reply reply) {
  const auto& route = call.route;
  const auto it = call.params.find("file");
  std::string serial = it == call.params.end() ? "" : it->second;
  const auto bad = [&] {
    return problem(wire::invalid_field("serial", "<lower-case hex serial>.pem expected"), route);
  };
  if (serial.size() < 5 || serial.size() > 44 || serial.substr(serial.size() - 4) != ".pem")
    return reply(bad());
  serial.resize(serial.size() - 4);
  for (const char c : serial)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return reply(bad());
  svc_.offload(Lane::lookup, reply, route, [this, serial, route, reply] {
    const auto c = svc_.store.endpoints().get(serial);
    if (!c.ok() && c.error().code != storage::Errc::not_found)
      return reply(store_problem(c.error(), route));
    if (!c.ok() || c.value().revoked_ms || c.value().not_after_ms <= wall_ms() ||
        c.value().pem.empty())
      return reply(problem({404, "no-certificate", "No valid certificate",
                            "serial: no valid, unrevoked certificate " + serial},
                           route));
    std::string body = c.value().pem;
    if (svc_.cert_issuer) body += svc_.cert_issuer->ca_pem();
    reply(plain_response(200, "application/pem-certificate-chain", std::move(body), route));
  });
}

}  // namespace oag::gateway::api
