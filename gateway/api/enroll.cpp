#include "gateway/api/enroll.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>

#include "proto/aka/hex.hpp"

namespace oag::gateway::api {

namespace {

wire::Problem bad(std::string code, std::string title, std::string detail, int status = 400) {
  return {status, std::move(code), std::move(title), std::move(detail)};
}

std::string param(const digest::Params& p, const char* name) {
  const auto it = p.find(name);
  return it == p.end() ? std::string() : it->second;
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
  return aka::to_hex(aka::ByteView(md, n));
}

Response chain_response(const IssuedCert& c, std::string route) {
  return plain_response(200, "application/pem-certificate-chain", c.pem + c.chain_pem,
                        std::move(route));
}

}  // namespace

std::variant<EnrollRequest, wire::Problem> EnrollApi::parse(const Call& call) {
  if (call.req.authorization.empty())
    return bad("invalid-field", "A field of the request is invalid",
               "authorization: required (Digest username=\"NAI\", nonce=\"\" starts an "
               "enrollment)");
  std::string why;
  auto params = digest::parse(call.req.authorization, why);
  if (!params) return bad("invalid-field", "A field of the request is invalid", why);
  const auto user = params->find("username");
  if (user == params->end() || !ident::valid_nai(user->second))
    return bad("invalid-field", "A field of the request is invalid",
               "authorization.username: expected the NAI");
  EnrollRequest out;
  out.body_sha256 = sha256_hex(call.req.body);
  // The answer repeats the CSR its challenge came with: the one parsed then (signature and all)
  // is the same bytes, so it is not decoded and verified again.
  if (const auto opaque = params->find("opaque"); opaque != params->end()) {
    std::lock_guard lk(mu_);
    const auto it = csrs_.find(opaque->second);
    if (it != csrs_.end() && it->second.body_sha256 == out.body_sha256) out.csr = it->second.csr;
  }
  if (!out.csr) {
    auto csr = pki::parse_csr(call.req.body);
    if (auto* e = std::get_if<pki::PkiError>(&csr))
      return bad("bad-csr", "The certificate request is not acceptable", "body: " + e->detail);
    out.csr = std::make_shared<pki::Csr>(std::get<pki::Csr>(std::move(csr)));
  }
  out.credentials = std::move(*params);
  return out;
}

std::variant<std::shared_ptr<pki::Csr>, wire::Problem> parse_renew(const Call& call) {
  auto csr = pki::parse_csr(call.req.body);
  if (auto* e = std::get_if<pki::PkiError>(&csr))
    return bad("bad-csr", "The certificate request is not acceptable", "body: " + e->detail);
  return std::make_shared<pki::Csr>(std::get<pki::Csr>(std::move(csr)));
}

namespace {

// A challenge bucket: `per_minute`, ten seconds' worth at once and at least three (a
// resynchronisation needs a second challenge).
bool take(TokenBuckets& b, const std::string& key, double per_minute, double& retry_after_s) {
  return b.take(key, per_minute / 60, std::max(3.0, per_minute / 6), 1, steady_us(), retry_after_s);
}

}  // namespace

void EnrollApi::enroll(Call call, EnrollRequest req, Reply reply) {
  const auto rt = svc_.runtime.get();
  if (!rt->enroll.enabled || !svc_.cert_issuer)
    return reply(problem(
        {404, "not-found", "No such resource", "path: enrollment is not enabled on this gateway"},
        call.route));
  const auto& p = req.credentials;
  const std::string nai = param(p, "username");
  const std::string opaque = param(p, "opaque");
  const std::string address = call.req.conn->remote_address;
  std::optional<Challenge> c;
  if (!opaque.empty()) {
    c = open(nai, opaque);
    std::lock_guard lk(mu_);
    csrs_.erase(opaque);
  }
  // No challenge to answer (the first request, or one used, expired or unknown): a fresh one.
  if (!c) return challenge(nai, req, address, call.route, reply);
  const digest::Exchange x{nai,
                           param(p, "realm"),
                           param(p, "nonce"),
                           param(p, "uri"),
                           param(p, "nc"),
                           param(p, "cnonce")};
  const auto nonce = digest::parse_aka_nonce(x.nonce);
  const bool well_formed =
      nonce && CRYPTO_memcmp(nonce->first.data(), c->rand.data(), c->rand.size()) == 0 &&
      x.realm == rt->realm && x.uri == call.req.path() &&
      ident::lower(param(p, "algorithm")) == ident::lower(digest::kAlgorithm) &&
      param(p, "qop") == digest::kQop && x.nc == "00000001" && !x.cnonce.empty() &&
      x.cnonce.size() <= 64;
  const bool fresh = svc_.clock() - c->created_ms <= kChallengeMs;
  if (!well_formed || !fresh) return challenge(nai, req, address, call.route, reply);
  if (const std::string auts_b64 = param(p, "auts"); !auts_b64.empty()) {
    // The SIM found the sequence number out of range: resync (MAC-S checked by the store), then
    // a fresh challenge whatever the outcome, so a wrong AUTS is answered like a right one.
    const auto auts = digest::unbase64(auts_b64);
    if (c->decoy || !auts || auts->size() != 14)
      return challenge(nai, req, address, call.route, reply);
    aka::Auts a{};
    std::copy(auts->begin(), auts->end(), a.begin());
    return svc_.offload(Lane::write, reply, call.route,
                        [this, nai, req, rand = c->rand, a, address, route = call.route, reply] {
                          (void)svc_.store.issuance().resync(nai, rand, a);
                          challenge(nai, req, address, route, reply);
                        });
  }
  const std::string expected =
      c->decoy ? random_hex(16)
               : digest::response(x, c->xres.expose(), call.req.method, call.req.body);
  if (!same(expected, param(p, "response"))) {
    if (c->decoy) return challenge(nai, req, address, call.route, reply);
    // A wrong answer uses the challenge up too (its vector's result: failure), at whichever
    // instance; then a fresh one, rate-limited like every challenge.
    return svc_.offload(
        Lane::write, reply, call.route,
        [this, nai, req, address, vector_id = c->vector_id, route = call.route, reply] {
          (void)svc_.store.issuance().report_result(vector_id, nai, false);
          challenge(nai, req, address, route, reply);
        });
  }
  // The SIM answered. The vector's result is recorded first: it succeeds once, so a challenge
  // is answered once at whichever instance; then the certificate, recorded before it leaves,
  // and rspauth over the answer.
  auto xres = std::make_shared<aka::SecretVec<32>>(std::move(c->xres));
  svc_.offload(
      Lane::write, reply, call.route,
      [this, nai, req, x, xres, address, vector_id = c->vector_id, route = call.route, reply] {
        const auto used = svc_.store.issuance().report_result(vector_id, nai, true);
        if (!used.ok() && used.error().code == storage::Errc::conflict)
          return challenge(nai, req, address, route, reply);  // answered before
        if (!used.ok()) return reply(store_problem(used.error(), route));
        issue(
            nai, *req.csr, route,
            [x, xres, route, reply](Response r) {
              r.headers.emplace_back(
                  "Authentication-Info",
                  digest::authentication_info(digest::rspauth(x, xres->expose(), r.body), x));
              reply(std::move(r));
            },
            reply);
      });
}

void EnrollApi::challenge(const std::string& nai, const EnrollRequest& req,
                          const std::string& address, const std::string& route, Reply reply) {
  const auto rt = svc_.runtime.get();
  double retry_after = 0;
  const bool allowed =
      take(per_address_, address, rt->enroll.challenges_per_minute_per_address, retry_after) &&
      take(per_nai_, ident::lower(nai), rt->enroll.challenges_per_minute_per_nai, retry_after);
  if (!allowed) {
    auto r = problem({429, "rate-limited", "Too many enrollment challenges",
                      "authorization.username: try again later"},
                     route);
    r.headers.emplace_back("Retry-After", std::to_string(static_cast<long>(retry_after) + 1));
    return reply(std::move(r));
  }
  const auto decoy = [this, nai, req, route, reply] {
    Challenge c;
    c.nai = nai;
    aka::Bytes<16> autn{};
    RAND_bytes(c.rand.data(), static_cast<int>(c.rand.size()));
    RAND_bytes(autn.data(), static_cast<int>(autn.size()));
    c.nonce = digest::aka_nonce(c.rand, autn);
    c.decoy = true;
    c.created_ms = svc_.clock();
    answer_challenge(c, req, route, reply);
  };
  if (ident::realm_of(nai) != rt->realm) return decoy();
  svc_.offload(Lane::lookup, reply, route, [this, nai, req, route, reply, decoy] {
    const auto sub = svc_.store.subscribers().get(nai);
    if (!sub.ok() && sub.error().code != storage::Errc::not_found)
      return reply(store_problem(sub.error(), route));
    if (!sub.ok() || sub.value().state != storage::State::active ||
        (sub.value().kinds & storage::kAka) == 0)
      return decoy();
    storage::IssueRequest ir;
    ir.subject = nai;
    ir.kind = storage::Kind::aka;
    ir.count = 1;
    ir.requester = nai;
    ir.request_id = new_uuid();
    ir.role = storage::Role::local;
    ir.billed_as = storage::BillingKind::enroll;
    svc_.store.issuance().issue_async(
        std::move(ir),
        guarded(reply, route,
                [this, nai, req, route, reply](storage::Result<storage::IssueResult> r) {
                  if (!r.ok()) return reply(store_problem(r.error(), route));
                  auto& v = r.value().vectors.at(0);
                  Challenge c;
                  c.nai = nai;
                  c.rand = v.rand;
                  c.vector_id = v.id;
                  c.nonce = digest::aka_nonce(v.rand, v.autn);
                  c.xres = std::move(v.xres);
                  c.created_ms = svc_.clock();
                  svc_.metrics.vectors(ident::Kind::aka, storage::Role::local, 1);
                  answer_challenge(c, req, route, reply);
                }));
  });
}

void EnrollApi::answer_challenge(const Challenge& c, const EnrollRequest& req,
                                 const std::string& route, const Reply& reply) {
  const std::string opaque = seal(c);
  const std::string header = digest::challenge(svc_.runtime.get()->realm, c.nonce, opaque);
  {
    std::lock_guard lk(mu_);
    if (csrs_.size() >= kMaxChallenges / 2) {
      const std::int64_t now = svc_.clock();
      std::erase_if(csrs_,
                    [now](const auto& e) { return now - e.second.created_ms > kChallengeMs; });
    }
    if (csrs_.size() < kMaxChallenges) csrs_[opaque] = {req.csr, req.body_sha256, c.created_ms};
  }
  auto r = problem({401, "unauthorized", "SIM authentication required",
                    "authorization: answer the challenge with the SIM (Digest AKAv1-MD5)"},
                   route);
  r.headers.emplace_back("WWW-Authenticate", header);
  reply(std::move(r));
}

namespace {

// The sealed layout: RAND 16 | vector id 16 (the UUID's bytes; zeros for a decoy) | created_ms 8
// | decoy 1 | XRES length 1 | XRES 16 (padded, so that a decoy's opaque is as long as a real one).
constexpr std::size_t kSealedState = 16 + 16 + 8 + 1 + 1 + 16;

std::string challenge_aad(const std::string& nai) {
  return "oag1/enroll/" + ident::lower(nai);
}

}  // namespace

std::string EnrollApi::seal(const Challenge& c) const {
  std::array<std::uint8_t, kSealedState> b{};
  std::copy(c.rand.begin(), c.rand.end(), b.begin());
  if (!c.decoy) {
    std::string hex = c.vector_id;
    std::erase(hex, '-');
    if (const auto id = aka::from_hex_fixed<16>(hex))
      std::copy(id->begin(), id->end(), b.begin() + 16);
  }
  for (int i = 0; i < 8; ++i)
    b[32 + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(c.created_ms) >> (56 - 8 * i));
  b[40] = c.decoy ? 1 : 0;
  const auto x = c.xres.expose();
  const std::size_t n = std::min<std::size_t>(16, x.size());
  b[41] = static_cast<std::uint8_t>(n);
  std::copy_n(x.begin(), n, b.begin() + 42);
  const auto sealed = svc_.sealer->seal(aka::ByteView(b.data(), b.size()), challenge_aad(c.nai));
  OPENSSL_cleanse(b.data(), b.size());
  return aka::to_hex(aka::ByteView(sealed.data(), sealed.size()));
}

std::optional<EnrollApi::Challenge> EnrollApi::open(const std::string& nai,
                                                    const std::string& opaque) const {
  const auto sealed = aka::from_hex(opaque);
  if (!sealed) return std::nullopt;
  aka::SecretVec<64> plain;
  if (!svc_.sealer->open(*sealed, challenge_aad(nai), plain) || plain.size() != kSealedState)
    return std::nullopt;  // not ours, another NAI's, or altered
  const auto b = plain.expose();
  Challenge c;
  c.nai = nai;
  std::copy_n(b.begin(), 16, c.rand.begin());
  c.decoy = b[40] != 0;
  if (!c.decoy) {
    const auto h = aka::to_hex(aka::ByteView(b.data() + 16, 16));
    c.vector_id = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
                  h.substr(16, 4) + "-" + h.substr(20);
  }
  std::uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = (t << 8) | b[32 + static_cast<std::size_t>(i)];
  c.created_ms = static_cast<std::int64_t>(t);
  const std::size_t n = std::min<std::size_t>(16, b[41]);
  c.xres = aka::SecretVec<32>(aka::ByteView(b.data() + 42, n));
  return c;
}

void EnrollApi::issue(const std::string& nai, pki::Csr& csr, const std::string& route,
                      std::function<void(Response)> answer, const Reply& reply) {
  const auto rt = svc_.runtime.get();
  const std::int64_t now_ms = svc_.clock();
  auto issued = std::make_shared<IssuedCert>(svc_.cert_issuer->issue(
      nai, csr.public_key.get(), rt->enroll.cert_lifetime_s, now_ms / 1000));
  storage::EndpointCert rec{issued->serial, nai,          issued->not_after_ms,
                            now_ms,         std::nullopt, issued->pem};
  svc_.store.endpoints().record_async(
      std::move(rec),
      guarded(reply, route, [issued, route, reply, answer](storage::Result<storage::Done> r) {
        if (!r.ok()) return reply(store_problem(r.error(), route));
        answer(chain_response(*issued, route));
      }));
}

void EnrollApi::renew(Call call, std::shared_ptr<pki::Csr> csr, Reply reply) {
  if (!svc_.cert_issuer)
    return reply(
        problem({404, "not-found", "No such resource", "path: this gateway has no issuing CA"},
                call.route));
  const auto who = std::get<SubscriberPrincipal>(call.who);
  const bool revoke_old = call.req.target.find("revoke-old=true") != std::string::npos;
  issue(
      who.nai, *csr, call.route,
      [this, who, revoke_old, route = call.route, reply](Response r) {
        if (!revoke_old) return reply(std::move(r));
        svc_.offload(Lane::write, reply, route,
                     [this, who, route, reply, r = std::move(r)]() mutable {
                       const auto done = svc_.store.endpoints().revoke(who.nai, who.cert_serial);
                       if (!done.ok()) return reply(store_problem(done.error(), route));
                       reply(std::move(r));
                     });
      },
      reply);
}

}  // namespace oag::gateway::api
