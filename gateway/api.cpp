#include "gateway/api.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "proto/aka/hex.hpp"
#include "proto/wire/messages.hpp"

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

Api::Api(const Config& cfg, storage::Backend& store, Metrics& metrics, Offload offload)
    : cfg_(cfg), store_(store), metrics_(metrics), offload_(std::move(offload)) {}

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
  if (storage::realm_of(v.nai) != cfg_.realm)
    return reply(
        problem({403, "no-agreement", "No agreement covers that realm",
                 "nai: realm " + storage::realm_of(v.nai) + " is not served by " + cfg_.realm},
                "vectors"));
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
    const auto& res = r.value();
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
    metrics_.vectors(kind, "local", static_cast<unsigned>(out.size()));
    Response resp =
        json_response(200, wire::vectors_response(res.subject, cfg_.realm, out), "vectors");
    resp.vectors = static_cast<unsigned>(out.size());
    reply(std::move(resp));
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
