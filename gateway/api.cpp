#include "gateway/api.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "gateway/log.hpp"
#include "gateway/trust.hpp"
#include "proto/aka/hex.hpp"
#include "proto/wire/messages.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

namespace oag::gateway {

namespace {

using wire::Problem;

std::string new_request_id() {
  std::uint8_t b[16];
  RAND_bytes(b, sizeof b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const auto h = aka::to_hex(aka::ByteView(b, 16));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool is_json(const std::string& content_type) {
  const auto semi = content_type.find(';');
  std::string t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t == "application/json";
}

Response json_response(int status, std::string body, std::string route) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.route = std::move(route);
  return r;
}

Response no_content(std::string route) {
  Response r;
  r.status = 204;
  r.route = std::move(route);
  return r;
}

// The 200 answer for issued vectors: the only place store vectors become wire vectors.
Response vectors_answer(const storage::IssueResult& res, const std::string& kind,
                        const std::string& issuer, std::string route) {
  std::vector<wire::WireVector> out;
  out.reserve(res.vectors.size());
  for (const auto& iv : res.vectors) {
    wire::WireVector w;
    w.id = iv.id;
    w.kind = kind;
    w.rand = iv.rand;
    w.expires = wire::rfc3339(iv.expires_ms);
    w.autn = iv.autn;
    w.xres = iv.xres;
    w.ck = iv.ck;
    w.ik = iv.ik;
    w.kc = iv.kc;
    out.push_back(std::move(w));
  }
  Response resp =
      json_response(200, wire::vectors_response(res.subject, issuer, out), std::move(route));
  resp.vectors = static_cast<unsigned>(out.size());
  return resp;
}

}  // namespace

wire::Problem problem_of(const storage::Error& e) {
  using storage::Errc;
  switch (e.code) {
    case Errc::not_found:
      return {404, "not-found", "No such subscriber or vector", e.detail};
    case Errc::disabled:
      return {403, "subscriber-disabled", "The subscriber is not active", e.detail};
    case Errc::not_allowed:
      return {422, "kind-not-supported", "Kind not supported for this subscriber", e.detail};
    case Errc::conflict:
      return {409, "conflict", "The request conflicts with the stored state", e.detail};
    case Errc::invalid:
      return {400, "invalid-field", "A field of the request is invalid", e.detail};
    case Errc::bad_auts:
      return {400, "bad-auts", "AUTS does not verify", e.detail};
    case Errc::exhausted:
      return {409, "sqn-exhausted", "The subscriber's sequence numbers are exhausted", e.detail};
    case Errc::quota_exhausted:
      return {429, "quota-exhausted", "The agreement's quota for this period is used up", e.detail};
    case Errc::unavailable:
      return {503, "store-unavailable", "The store is unavailable", "try again later"};
  }
  return {500, "internal", "Internal error", ""};
}

Response Api::problem(const wire::Problem& p, std::string route) {
  Response r = json_response(p.status, wire::to_json(p), std::move(route));
  r.content_type = "application/problem+json";
  return r;
}

Response Api::store_problem(const storage::Error& e, std::string route) {
  Response r = problem(problem_of(e), std::move(route));
  if (e.code == storage::Errc::unavailable) r.internal = e.detail;  // logged, never sent
  return r;
}

Api::Api(const Config& cfg, storage::Backend& store, Metrics& metrics, Offload offload,
         PeerClient* peers)
    : cfg_(cfg), store_(store), metrics_(metrics), offload_(std::move(offload)), peers_(peers) {}

void Api::endpoint(Request req, Reply reply) {
  // 1. Route: known path, allowed method.
  const std::string path = req.target.substr(0, req.target.find('?'));
  std::string route, vector_id;
  if (path == "/v1/vectors") {
    route = "vectors";
  } else if (path == "/v1/resync") {
    route = "resync";
  } else if (path.rfind("/v1/vectors/", 0) == 0 && path.size() > 19 &&
             path.compare(path.size() - 7, 7, "/result") == 0) {
    route = "result";
    vector_id = path.substr(12, path.size() - 12 - 7);
  } else {
    return reply(problem({404, "not-found", "No such resource", "path: " + path}, "other"));
  }
  if (req.method != "POST") {
    auto r = problem({405, "method-not-allowed", "Method not allowed", "method: use POST"}, route);
    r.headers.emplace_back("Allow", "POST");
    return reply(r);
  }
  // 2. Content type, before anything reads the body.
  if (!is_json(req.content_type))
    return reply(problem({415, "unsupported-media-type", "Expected application/json",
                          "content-type: got \"" + req.content_type + "\""},
                         route));
  // 3. Authorisation of the certificate's identity: an active subscriber of ours, certificate not
  //    revoked. Store reads block, so they run on a store thread. A connection reuses its last
  //    authorisation for limits.authorization_cache_ms: issuing then never leaves the I/O thread
  //    but to enqueue the (non-blocking) issue.
  const std::int64_t now = steady_ms();
  if (route == "vectors" && req.authorized_until &&
      now < req.authorized_until->load(std::memory_order_relaxed))
    return issue(std::move(req), std::move(reply));
  offload_([this, req = std::move(req), route, vector_id, reply = std::move(reply), now]() mutable {
    const auto revoked = store_.endpoints().is_revoked(req.cert_serial);
    if (!revoked.ok()) return reply(store_problem(revoked.error(), route));
    if (revoked.value())
      return reply(problem(
          {403, "certificate-revoked", "The client certificate is revoked", "certificate: revoked"},
          route));
    const auto sub = store_.subscribers().get(req.identity);
    if (!sub.ok() && sub.error().code != storage::Errc::not_found)
      return reply(store_problem(sub.error(), route));
    if (!sub.ok() || sub.value().state != storage::State::active)
      return reply(problem({403, "requester-not-allowed",
                            "The requester is not an active subscriber of this operator",
                            "requester: " + req.identity},
                           route));
    if (req.authorized_until && cfg_.limits.authorization_cache_ms > 0)
      req.authorized_until->store(now + cfg_.limits.authorization_cache_ms,
                                  std::memory_order_relaxed);
    // 4. Handler (validates its body first).
    if (route == "vectors") return issue(std::move(req), std::move(reply));
    if (route == "result") return result(std::move(req), vector_id, std::move(reply));
    return resync(std::move(req), std::move(reply));
  });
}

void Api::issue(Request req, Reply reply) {
  auto parsed = wire::parse_vector_request(req.body, false);
  if (auto* p = std::get_if<Problem>(&parsed)) return reply(problem(*p, "vectors"));
  auto v = std::get<wire::VectorRequest>(std::move(parsed));
  if (storage::realm_of(v.nai) != cfg_.realm) {
    // Another operator's subscriber: brokered under the agreement for that realm. Reading the
    // agreements blocks, so the rest runs on a store thread.
    return offload_([this, req = std::move(req), v, reply = std::move(reply)]() mutable {
      broker(std::move(req), v.nai, v.kind, v.count, std::move(reply));
    });
  }
  storage::IssueRequest ir;
  ir.subject = v.nai;
  ir.kind = v.kind == "sim" ? storage::Kind::sim : storage::Kind::aka;
  ir.count = v.count;
  ir.requester = req.identity;
  ir.request_id = new_request_id();
  ir.role = storage::Role::local;
  store_.issuance().issue_async(std::move(ir), [this, reply = std::move(reply), kind = v.kind](
                                                   storage::Result<storage::IssueResult> r) {
    if (!r.ok()) return reply(store_problem(r.error(), "vectors"));
    Response resp = vectors_answer(r.value(), kind, cfg_.realm, "vectors");
    metrics_.vectors(kind, "local", resp.vectors);
    reply(std::move(resp));
  });
}

namespace {

bool agreement_current(const storage::Agreement& a, std::int64_t now) {
  return a.state == storage::State::active && now >= a.valid_from_ms &&
         (a.valid_until_ms == 0 || now < a.valid_until_ms);
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

bool Api::take_tokens(const storage::Agreement& a, unsigned n, double& retry_after_s) {
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  std::lock_guard lk(mu_);
  auto [it, fresh] = buckets_.try_emplace(a.id);
  Bucket& b = it->second;
  b.tokens = std::min<double>(a.burst, b.tokens + (now_us - b.last_us) / 1e6 * a.rate_per_s);
  if (fresh) b.tokens = a.burst;
  b.last_us = now_us;
  if (b.tokens >= n) {
    b.tokens -= n;
    return true;
  }
  retry_after_s = (n - b.tokens) / a.rate_per_s;
  return false;
}

bool Api::breaker_allows(const std::string& agreement) {
  std::lock_guard lk(mu_);
  Breaker& b = breakers_[agreement];
  if (b.failures < cfg_.peers.breaker_failures) return true;
  if (wall_ms() < b.open_until_ms || b.probing) return false;
  b.probing = true;  // half open: one request probes the peer
  return true;
}

void Api::breaker_record(const std::string& agreement, bool failure) {
  std::lock_guard lk(mu_);
  Breaker& b = breakers_[agreement];
  b.probing = false;
  if (!failure) {
    b.failures = 0;
    return;
  }
  if (++b.failures >= cfg_.peers.breaker_failures)
    b.open_until_ms = wall_ms() + cfg_.peers.breaker_open_ms;
}

// The issuing side of federation: a peer AG asks for vectors of our subscriber.
void Api::federation(Request req, Reply reply) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (path != "/v1/federation/vectors")
    return reply(problem({404, "not-found", "No such resource", "path: " + path}, "federation"));
  if (req.method != "POST")
    return reply(problem({405, "method-not-allowed", "Method not allowed", "method: use POST"},
                         "federation"));
  if (!is_json(req.content_type))
    return reply(problem({415, "unsupported-media-type", "Expected application/json",
                          "content-type: got \"" + req.content_type + "\""},
                         "federation"));
  offload_([this, req = std::move(req), reply = std::move(reply)]() mutable {
    auto parsed = wire::parse_vector_request(req.body, true);
    if (auto* p = std::get_if<Problem>(&parsed)) return reply(problem(*p, "federation"));
    const auto v = std::get<wire::VectorRequest>(std::move(parsed));
    // Which agreement does this certificate satisfy, for the requester's realm?
    const auto all = store_.agreements().list();
    if (!all.ok()) return reply(store_problem(all.error(), "federation"));
    const std::int64_t now = wall_ms();
    const std::string requester_realm = storage::realm_of(v.requester);
    const storage::Agreement* match = nullptr;
    bool trusted_somewhere = false;
    // The chain is the connection's: verified once per trust anchor, not per request (a request
    // that comes without its connection's cache gets one of its own).
    TrustCache own;
    TrustCache& trust = req.trust_cache ? *req.trust_cache : own;
    for (const auto& a : all.value()) {
      if (!trust.trusted(a, req.peer_chain, false)) continue;
      trusted_somewhere = true;
      if (std::find(a.peer_realms.begin(), a.peer_realms.end(), requester_realm) ==
          a.peer_realms.end())
        continue;
      if (!agreement_current(a, now)) continue;
      match = &a;
      break;
    }
    if (match == nullptr)
      return reply(problem(
          {403, "no-agreement", "No active agreement covers this peer and realm",
           trusted_somewhere ? "requester: no current agreement for realm " + requester_realm
                             : "certificate: not trusted by any agreement"},
          "federation"));
    const auto& a = *match;
    if (storage::realm_of(v.nai) != cfg_.realm)
      return reply(problem({403, "not-our-subscriber", "This gateway serves only its own realm",
                            "nai: realm " + storage::realm_of(v.nai) + " is not " + cfg_.realm},
                           "federation"));
    const auto kind = v.kind == "sim" ? storage::Kind::sim : storage::Kind::aka;
    if ((a.kinds & storage::mask_of(kind)) == 0)
      return reply(problem({403, "kind-not-agreed", "The agreement does not cover this kind",
                            "kind: " + v.kind + " is not in agreement " + a.id},
                           "federation"));
    double retry_after = 0;
    if (!take_tokens(a, v.count, retry_after)) {
      auto r = problem(
          {429, "rate-limited", "The agreement's rate is exceeded", "agreement " + a.id + ": rate"},
          "federation");
      r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(retry_after) + 1));
      return reply(std::move(r));
    }
    storage::IssueRequest ir;
    ir.subject = v.nai;
    ir.kind = kind;
    ir.count = v.count;
    ir.requester = v.requester;
    ir.request_id = v.request_id;
    ir.role = storage::Role::sold;
    ir.agreement = a.id;
    ir.peer = a.id;  // idempotency keys are per peer (the agreement identifies it)
    ir.price_micros = a.price_micros;
    ir.currency = a.currency;
    ir.quota = a.quota;
    ir.quota_period_start_ms = period_start(a.quota_period, now);
    store_.issuance().issue_async(std::move(ir), [this, reply = std::move(reply), kind = v.kind](
                                                     storage::Result<storage::IssueResult> r) {
      if (!r.ok()) return reply(store_problem(r.error(), "federation"));
      Response resp = vectors_answer(r.value(), kind, cfg_.realm, "federation");
      if (!r.value().replayed) metrics_.vectors(kind, "sold", resp.vectors);
      reply(std::move(resp));
    });
  });
}

// The requesting side: our endpoint asks for another operator's subscriber (on a store thread).
void Api::broker(Request req, std::string nai, std::string kind, unsigned count, Reply reply) {
  const std::string realm = storage::realm_of(nai);
  const auto found = store_.agreements().for_realm(realm);
  if (!found.ok()) return reply(store_problem(found.error(), "vectors"));
  const std::int64_t now = wall_ms();
  const auto k = kind == "sim" ? storage::Kind::sim : storage::Kind::aka;
  const storage::Agreement* a = nullptr;
  for (const auto& g : found.value())
    if (agreement_current(g, now) && (g.kinds & storage::mask_of(k))) {
      a = &g;
      break;
    }
  if (a == nullptr || peers_ == nullptr)
    return reply(problem({403, "no-agreement", "No agreement covers that realm",
                          "nai: no current agreement for realm " + realm + " and kind " + kind},
                         "vectors"));
  if (!breaker_allows(a->id))
    return reply(problem({503, "peer-unavailable", "The peer gateway is unavailable",
                          "peer: " + realm + " failed repeatedly; retrying later"},
                         "vectors"));
  const std::string request_id = new_request_id();
  nlohmann::ordered_json body{{"nai", nai},
                              {"kind", kind},
                              {"count", count},
                              {"requester", req.identity},
                              {"request_id", request_id}};
  peers_->post(
      *a, "/v1/federation/vectors", body.dump(),
      [this, agreement = *a, nai, kind, count, request_id, requester = req.identity,
       reply = std::move(reply)](PeerReply pr) mutable {
        const bool transport = pr.failure != PeerReply::Failure::none;
        breaker_record(agreement.id, transport || pr.status >= 500);
        if (transport)
          log::warn(
              log::event::kPeerFailed, "peer call failed",
              {{"agreement", agreement.id}, {"peer", agreement.peer_url}, {"error", pr.error}});
        if (pr.failure == PeerReply::Failure::connect)
          return reply(problem(
              {503, "peer-unavailable", "The peer gateway is unavailable", "peer: cannot connect"},
              "vectors"));
        if (pr.failure == PeerReply::Failure::timeout)
          return reply(problem(
              {504, "peer-timeout", "The peer gateway did not answer in time", "peer: timeout"},
              "vectors"));
        if (transport || pr.status != 200) {
          Response r;
          if (pr.status == 404)
            r = problem({404, "not-found", "No such subscriber", "nai: " + nai}, "vectors");
          else if (pr.status == 429) {
            r = problem(
                {503, "peer-busy", "The peer gateway asks to retry later", "peer: rate or quota"},
                "vectors");
            if (!pr.retry_after.empty()) r.headers.emplace_back("Retry-After", pr.retry_after);
          } else {
            r = problem({502, "peer-error", "The peer gateway answered badly",
                         "peer: status " + std::to_string(pr.status)},
                        "vectors");
          }
          r.internal = "peer " + agreement.peer_url + " answered " + std::to_string(pr.status) +
                       ": " + pr.body.substr(0, 300) + pr.error;
          return reply(std::move(r));
        }
        auto parsed = wire::parse_vectors_response(pr.body);
        if (auto* p = std::get_if<Problem>(&parsed)) {
          Response r = problem(
              {502, "peer-error", "The peer gateway answered badly", "peer: malformed answer"},
              "vectors");
          r.internal = "peer " + agreement.peer_url + ": " + p->detail;
          return reply(std::move(r));
        }
        auto vectors = std::make_shared<std::vector<wire::WireVector>>(
            std::get<wire::VectorsAnswer>(std::move(parsed)).vectors);
        if (vectors->size() != count) {
          Response r =
              problem({502, "peer-error", "The peer gateway answered badly", "peer: wrong count"},
                      "vectors");
          return reply(std::move(r));
        }
        // Bought, committed before the endpoint sees the vectors.
        storage::PurchaseRecord p;
        p.requester = requester;
        p.subject = nai;
        p.kind = kind == "sim" ? storage::Kind::sim : storage::Kind::aka;
        p.count = count;
        p.agreement = agreement.id;
        p.price_micros = agreement.price_micros;
        p.currency = agreement.currency;
        p.request_id = request_id;
        for (const auto& w : *vectors) {
          p.rands.push_back(w.rand);
          p.ids.push_back(w.id);
        }
        store_.issuance().record_purchase_async(
            std::move(p), [this, vectors, nai, kind, realm = storage::realm_of(nai),
                           reply = std::move(reply)](storage::Result<std::uint64_t> r) {
              if (!r.ok()) return reply(store_problem(r.error(), "vectors"));
              metrics_.vectors(kind, "bought", static_cast<unsigned>(vectors->size()));
              Response resp =
                  json_response(200, wire::vectors_response(nai, realm, *vectors), "vectors");
              resp.vectors = static_cast<unsigned>(vectors->size());
              reply(std::move(resp));
            });
      });
}

void Api::result(Request req, std::string vector_id, Reply reply) {
  auto parsed = wire::parse_result_report(req.body);
  if (auto* p = std::get_if<Problem>(&parsed)) return reply(problem(*p, "result"));
  const auto r = store_.issuance().report_result(vector_id, req.identity,
                                                 std::get<wire::ResultReport>(parsed).success);
  if (!r.ok()) return reply(store_problem(r.error(), "result"));
  reply(no_content("result"));
}

void Api::resync(Request req, Reply reply) {
  auto parsed = wire::parse_resync_request(req.body);
  if (auto* p = std::get_if<Problem>(&parsed)) return reply(problem(*p, "resync"));
  const auto& rr = std::get<wire::ResyncRequest>(parsed);
  // Only the caller's own subscription: the NAI comes from the certificate, not the body.
  const auto r = store_.issuance().resync(req.identity, rr.rand, rr.auts);
  if (!r.ok()) return reply(store_problem(r.error(), "resync"));
  reply(no_content("resync"));
}

void Api::ops(Request req, Reply reply) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method != "GET")
    return reply(
        problem({405, "method-not-allowed", "Method not allowed", "method: use GET"}, "ops"));
  if (path == "/healthz") {
    Response r;
    r.content_type = "text/plain";
    r.body = "ok\n";
    r.route = "healthz";
    return reply(std::move(r));
  }
  if (path == "/readyz") {
    return offload_([this, reply = std::move(reply)] {
      Response r;
      r.content_type = "text/plain";
      r.route = "readyz";
      const bool ok = store_.healthy();
      r.status = ok ? 200 : 503;
      r.body = ok ? "ready\n" : "store unavailable\n";
      reply(std::move(r));
    });
  }
  if (path == "/metrics") {
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.render(store_.stats());
    r.route = "metrics";
    return reply(std::move(r));
  }
  reply(problem({404, "not-found", "No such resource", "path: " + path}, "ops"));
}

}  // namespace oag::gateway
