#include "gateway/roaming/home_agent.hpp"

#include <openssl/rand.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "gateway/log.hpp"
#include "proto/aka/hex.hpp"
#include "proto/pki/csr.hpp"
#include "proto/wire/messages.hpp"

namespace oag::gateway::roaming {

namespace {

login::Nonce fresh_nonce() {
  login::Nonce n{};
  RAND_bytes(n.data(), static_cast<int>(n.size()));
  return n;
}

Response answer(std::string body, const std::string& route) {
  return json_response(200, std::move(body), route);
}

// A NACK with its proof (when the seal opened) and HV2 (when the password was right).
std::string nack(login::Reason r, const aka::Secret<32>& z, const login::Nonce& n2,
                 std::optional<aka::Secret<32>> hv2) {
  login::Nack n{r, n2, login::seal_proof(z, {r, std::move(hv2)})};
  return login::to_json(login::HomeAnswer(std::move(n)));
}

std::string fingerprint(const login::LoginRequest& m) {
  return aka::to_hex(login::sha256(login::to_json(m)));
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string visitor_ack(const login::HomeAck& ack, const std::string& session) {
  login::Ticket t{ack.nai,   ack.confirm, ack.n3,      ack.certificate,
                  ack.chain, session,     ack.expires, ack.ha_session};
  std::string plain = login::to_json(t);
  login::VisitorAck v{ack.n2, login::aead_seal(ack.ks2, plain, {})};
  OPENSSL_cleanse(plain.data(), plain.size());
  return login::to_json(login::VisitorAnswer(std::move(v)));
}

std::string session_id(const aka::Secret<32>& ks2, const std::string& request_id) {
  const std::string label = "oag1 session " + request_id;
  const auto h =
      login::hmac(ks2.expose(),
                  aka::ByteView(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()));
  return aka::to_hex(aka::ByteView(h.data(), 16));
}

std::string relay_request_id(const login::LoginRequest& m) {
  auto copy = m;
  copy.request_id.clear();
  auto h = login::sha256("oag1 m3 " + login::to_json(copy));
  h[6] = static_cast<std::uint8_t>((h[6] & 0x0f) | 0x50);  // a name-based UUID (version 5 shape)
  h[8] = static_cast<std::uint8_t>((h[8] & 0x3f) | 0x80);
  const auto x = aka::to_hex(aka::ByteView(h.data(), 16));
  return x.substr(0, 8) + "-" + x.substr(8, 4) + "-" + x.substr(12, 4) + "-" + x.substr(16, 4) +
         "-" + x.substr(20);
}

HomeAgent::HomeAgent(const Services& svc) : svc_(svc) {
  RAND_priv_bytes(dummy_.data(), static_cast<int>(dummy_.size()));
  const auto cfg = svc_.runtime.get();
  if (cfg->pki.login_key.empty()) return;
  const auto pem = read_file(cfg->pki.login_key);
  if (pem) login_key_ = login::private_key_from_pem(*pem);
  if (login_key_) login_pub_ = login::public_of(*login_key_);
  if (!login_key_)
    log::warn(log::event::kLoginDisabled, "roaming logins disabled: the login key does not load",
              {{"file", cfg->pki.login_key}});
}

bool HomeAgent::enabled() const {
  return login_key_ && svc_.cert_issuer && svc_.runtime.get()->roaming.enabled;
}

void HomeAgent::login(LoginCall call, Relay relay, const std::string& route, Reply reply) {
  const auto& m = call.m;
  // The seal first: what it hides (the NAI, HV) is the home agent's alone, and a seal that does
  // not open is answered without a proof (there is no Z to make one with).
  auto opened = login::open(*login_key_, login_pub_, m.n1, m.sealed, login::login_aad(m));
  std::optional<login::Identity> id;
  if (opened) id = login::parse_identity(opened->plaintext);
  if (opened) OPENSSL_cleanse(opened->plaintext.data(), opened->plaintext.size());
  const auto our_realm = svc_.runtime.get()->realm;
  if (!opened) {
    log::info(log::event::kLoginRefused, "login refused",
              {{"reason", "bad-request"},
               {"why", "the seal does not open"},
               {"agreement", relay.agreement}});
    return reply(answer(
        login::to_json(login::HomeAnswer(login::Nack{login::Reason::bad_request, {}, {}})), route));
  }
  if (!id || ident::realm_of(id->nai) != our_realm || m.home_realm != our_realm) {
    log::info(log::event::kLoginRefused, "login refused",
              {{"reason", "bad-request"}, {"why", "the identity is not one of ours"}});
    return reply(
        answer(nack(login::Reason::bad_request, opened->z, fresh_nonce(), std::nullopt), route));
  }
  const std::int64_t now_s = svc_.clock() / 1000;
  if (m.time > now_s + login::kMaxSkewS || m.time < now_s - login::kMaxSkewS) {
    log::info(log::event::kLoginRefused, "login refused",
              {{"reason", "stale"}, {"nai", id->nai}, {"skew_s", std::to_string(m.time - now_s)}});
    return reply(answer(nack(login::Reason::stale, opened->z, fresh_nonce(), std::nullopt), route));
  }
  auto z = opened->z;
  auto identity = std::move(*id);
  svc_.offload(Lane::lookup, reply, route,
               [this, call = std::move(call), relay = std::move(relay),
                identity = std::move(identity), z, route, reply]() mutable {
                 decide(std::move(call), std::move(relay), std::move(identity), z, route, reply);
               });
}

void HomeAgent::decide(LoginCall call, Relay relay, login::Identity id, aka::Secret<32> z,
                       const std::string& route, Reply reply) {
  const auto& m = call.m;
  const auto rt = svc_.runtime.get();
  const bool at_home = relay.agreement.empty();
  const std::string fp = fingerprint(m);
  auto view = svc_.store.logins().view(id.nai, m.n1, relay.agreement, m.request_id, fp);
  if (!view.ok()) return reply(store_problem(view.error(), route));
  auto& v = view.value();
  if (v.answer) return reply(answer(*v.answer, route));  // a retry: the same answer again
  if (v.request_id_reused)
    return reply(problem({409, "conflict", "The request id was used for another login",
                          "request_id: " + m.request_id},
                         route));
  const login::Nonce n2 = fresh_nonce();
  const auto refuse = [&](login::Reason r, std::optional<aka::Secret<32>> hv2) {
    log::info(log::event::kLoginRefused, "login refused",
              {{"reason", login::to_string(r)}, {"nai", id.nai}, {"agreement", relay.agreement}});
    return nack(r, z, n2, std::move(hv2));
  };
  if (v.nonce_seen) return reply(answer(refuse(login::Reason::replay, std::nullopt), route));
  const std::int64_t now = svc_.clock();
  if (v.failures.locked_until_ms > now)
    return reply(answer(refuse(login::Reason::locked, std::nullopt), route));

  // HV, under the stored pwd_key or, for a stranger or a user without a password, a dummy one:
  // the same work and the same answer either way.
  login::HvInput in;
  in.nai = id.nai;
  in.n1 = m.n1;
  in.time = m.time;
  in.visited_realm = m.visited_realm;
  in.dp_sha256 = login::device_profile_hash(m);
  if (const auto b = aka::from_hex_fixed<32>(call.csr->spki_sha256)) in.spki_sha256 = *b;
  const bool known = v.pwd_key.has_value();
  const auto& key = known ? *v.pwd_key : dummy_;
  const auto expected = login::hv(key, in);
  const bool hv_ok = login::equal(expected, id.hv.expose()) && known;

  storage::LoginRecord rec;
  rec.nai = id.nai;
  rec.n1 = m.n1;
  rec.role = at_home ? storage::Role::local : storage::Role::sold;
  rec.visited_realm = m.visited_realm;
  rec.agreement = relay.agreement;
  rec.price_micros = relay.price_micros;
  rec.currency = relay.currency;
  rec.request_id = at_home ? new_uuid() : m.request_id;
  rec.peer = relay.agreement;
  rec.fingerprint = fp;

  std::string reason_for_log;
  if (!hv_ok) {
    rec.verdict = storage::LoginVerdict::failure;
    rec.answer = nack(login::Reason::bad_credentials, z, n2, std::nullopt);
    reason_for_log = "bad-credentials";
  } else if (v.subscriber->state != storage::State::active) {
    rec.verdict = storage::LoginVerdict::refused;
    rec.answer = nack(login::Reason::revoked_user, z, n2, login::hv2(key, n2, id.hv));
    reason_for_log = "revoked-user";
  } else {
    const pki::Csr* parsed = call.csr.get();
    if (!pki::csr_signature_valid(*parsed)) {
      rec.verdict = storage::LoginVerdict::refused;
      rec.answer = nack(login::Reason::bad_csr, z, n2, login::hv2(key, n2, id.hv));
      reason_for_log = "bad-csr";
    } else {
      // Accepted: the certificate, Ks2 for the foreign agent (or for us at home), Ks3 for the HA.
      const auto issued = svc_.cert_issuer->issue(id.nai, parsed->public_key.get(),
                                                  rt->roaming.cert_lifetime_s, now / 1000);
      login::HomeAck ack;
      ack.nai = id.nai;
      ack.n2 = n2;
      ack.n3 = fresh_nonce();
      const auto k = login::k_master(z, key, m.n1);
      ack.ks2 = login::ks2(k, ack.n2);
      const auto ks3 = login::ks3(k, ack.n3);
      ack.certificate = issued.pem;
      ack.chain = {issued.chain_pem};
      ack.expires = wire::rfc3339(issued.not_after_ms);
      ack.confirm = login::confirm(ks3, id.nai, ack.n2, ack.n3, issued.pem);
      rec.verdict = storage::LoginVerdict::success;
      rec.cert = storage::EndpointCert{issued.serial, id.nai,       issued.not_after_ms,
                                       now,           std::nullopt, issued.pem};
      // The home agent's own session with the user, under Ks3: renewals through any FA.
      ack.ha_session = session_id(ks3, rec.request_id);
      const std::string chain_pem = issued.pem + issued.chain_pem;
      rec.sessions.push_back(
          {ack.ha_session, id.nai, ks3, relay.agreement, now, issued.not_after_ms, chain_pem});
      if (at_home) {
        // At home we are the foreign agent too: the visitor session under Ks2.
        const std::string sid = session_id(ack.ks2, rec.request_id);
        rec.sessions.push_back({sid, id.nai, ack.ks2, "", now, issued.not_after_ms, chain_pem});
        rec.answer = visitor_ack(ack, sid);
      } else {
        rec.answer = login::to_json(login::HomeAnswer(ack));
      }
      reason_for_log.clear();
      log::info(log::event::kLoginAccepted, "login accepted",
                {{"nai", id.nai},
                 {"visited_realm", m.visited_realm},
                 {"agreement", relay.agreement},
                 {"serial", issued.serial}});
    }
  }
  if (!reason_for_log.empty())
    log::info(log::event::kLoginRefused, "login refused",
              {{"reason", reason_for_log}, {"nai", id.nai}, {"agreement", relay.agreement}});
  // At home a refusal is not kept for retries (there is no request id to find it by).
  if (at_home) rec.peer.clear();
  auto stored = std::make_shared<std::string>(rec.answer);
  svc_.store.logins().commit_async(
      std::move(rec),
      guarded(reply, route,
              [this, stored, z, n2, route, reply](storage::Result<storage::LoginCommitted> r) {
                if (!r.ok()) return reply(store_problem(r.error(), route));
                using Instead = storage::LoginCommitted::Instead;
                switch (r.value().instead) {
                  case Instead::stored_answer:
                    return reply(answer(r.value().answer, route));
                  case Instead::replay:
                    return reply(answer(nack(login::Reason::replay, z, n2, std::nullopt), route));
                  case Instead::locked:
                    return reply(answer(nack(login::Reason::locked, z, n2, std::nullopt), route));
                  case Instead::nothing:
                    break;
                }
                if (svc_.fault_point) svc_.fault_point("login-committed");
                reply(answer(*stored, route));
              }));
}

void HomeAgent::renew(std::string body, std::string authorization, const std::string& route,
                      Reply reply) {
  // (By value: it runs again on a store thread, after this function returned.)
  const auto unauthorized = [route](std::string why) {
    auto r =
        problem({401, "unauthorized", "The renewal is not authenticated", std::move(why)}, route);
    r.headers.emplace_back("WWW-Authenticate", "OAG-Session");
    return r;
  };
  if (!enabled())
    return reply(problem({404, "not-found", "No such resource",
                          "path: roaming logins are not enabled on this gateway"},
                         route));
  const auto auth = login::parse_session_auth(authorization);
  if (!auth)
    return reply(unauthorized("authorization: expected OAG-Session id=..., ts=..., mac=..."));
  svc_.offload(Lane::lookup, reply, route, [this, body, a = *auth, route, reply, unauthorized] {
    const auto s = svc_.store.logins().session(a.id);
    if (!s.ok() && s.error().code == storage::Errc::not_found)
      return reply(unauthorized("authorization.id: no such session"));
    if (!s.ok()) return reply(store_problem(s.error(), route));
    const auto& session = s.value();
    const std::int64_t now = svc_.clock();
    const std::int64_t window = login::kMaxSkewS * 1000;
    if (now >= session.expires_ms)
      return reply(unauthorized("authorization: the session has expired"));
    if (a.ts_ms > now + window || a.ts_ms < now - window)
      return reply(unauthorized("authorization.ts: more than 300 s from the home agent's clock"));
    // Ks3, end to end: the FA relays the bytes it was sent and cannot make this MAC.
    if (!login::equal(login::request_mac(session.ks2, "POST", "/v1/roaming/renew", a.ts_ms, body),
                      a.mac))
      return reply(unauthorized("authorization.mac: does not verify"));
    {
      std::lock_guard lk(mu_);
      if (renew_ts_.size() > 100'000) renew_ts_.clear();
      auto& seen = renew_ts_[a.id];
      std::erase_if(seen, [&](std::int64_t t) { return t < now - window; });
      if (!seen.insert(a.ts_ms).second) return reply(unauthorized("authorization.ts: used before"));
    }
    std::string csr_pem;
    try {
      const auto j = nlohmann::json::parse(body);
      csr_pem = j.at("csr").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return reply(problem(wire::invalid_field("csr", "expected {\"home_realm\",\"csr\"}"), route));
    }
    auto csr = pki::parse_csr(csr_pem);
    if (auto* e = std::get_if<pki::PkiError>(&csr))
      return reply(problem(
          {400, "bad-csr", "The certificate request is not acceptable", "csr: " + e->detail},
          route));
    const auto sub = svc_.store.subscribers().get(session.nai);
    if (!sub.ok()) return reply(store_problem(sub.error(), route));
    if (sub.value().state != storage::State::active)
      return reply(
          problem({403, "revoked-user", "The user may not log in", "nai: not active"}, route));
    const auto rt = svc_.runtime.get();
    auto issued = std::make_shared<IssuedCert>(
        svc_.cert_issuer->issue(session.nai, std::get<pki::Csr>(csr).public_key.get(),
                                rt->roaming.cert_lifetime_s, now / 1000));
    storage::EndpointCert rec{issued->serial, session.nai, issued->not_after_ms, now,
                              std::nullopt,   issued->pem};
    log::info(log::event::kLoginAccepted, "certificate renewed",
              {{"nai", session.nai}, {"serial", issued->serial}});
    svc_.store.endpoints().record_async(
        std::move(rec),
        guarded(reply, route, [issued, route, reply](storage::Result<storage::Done> r) {
          if (!r.ok()) return reply(store_problem(r.error(), route));
          const nlohmann::json j{{"certificate", issued->pem},
                                 {"chain", {issued->chain_pem}},
                                 {"expires", wire::rfc3339(issued->not_after_ms)}};
          reply(json_response(200, j.dump(), route));
        }));
  });
}

}  // namespace oag::gateway::roaming
