#include "client/roaming_login.hpp"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "proto/aka/hex.hpp"
#include "proto/ident/ident.hpp"
#include "proto/login/messages.hpp"
#include "proto/pki/csr.hpp"
#include "proto/pki/es256.hpp"
#include "proto/pki/verify.hpp"
#include "proto/pki/x509.hpp"

namespace oag::client {

namespace {

using Clock = std::chrono::steady_clock;

Error malformed(std::string detail) {
  return Error{200, "malformed-answer", std::move(detail)};
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

login::Nonce random_nonce() {
  login::Nonce n{};
  RAND_bytes(n.data(), static_cast<int>(n.size()));
  return n;
}

}  // namespace

Expected<HomeProfile> parse_profile(const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    return Error{0, "bad-profile", "profile: not JSON"};
  }
  HomeProfile p;
  const auto str = [&](const char* k, std::string& out) {
    if (!j.contains(k) || !j[k].is_string()) return false;
    out = j[k].get<std::string>();
    return true;
  };
  std::string pub;
  if (!str("nai", p.nai) || !ident::valid_nai(p.nai))
    return Error{0, "bad-profile", "profile.nai: expected user@realm"};
  if (!str("home_realm", p.home_realm) || ident::realm_of(p.nai) != p.home_realm)
    return Error{0, "bad-profile", "profile.home_realm: expected the NAI's realm"};
  const auto pk = str("login_public_key", pub) ? aka::from_hex_fixed<32>(pub) : std::nullopt;
  if (!pk) return Error{0, "bad-profile", "profile.login_public_key: expected 64 hex digits"};
  p.login_public = *pk;
  if (!str("user_ca", p.user_ca) || !pki::cert_from_pem(p.user_ca))
    return Error{0, "bad-profile", "profile.user_ca: expected a PEM certificate"};
  str("visitor_url", p.visitor_url);
  return p;
}

std::string session_authorization(const std::string& session, const aka::Secret<32>& key,
                                  std::string_view method, std::string_view path,
                                  std::string_view body, std::int64_t ts_ms) {
  login::SessionAuth a;
  a.id = session;
  a.ts_ms = ts_ms;
  const auto mac = login::request_mac(key, method, path, ts_ms, body);
  std::copy(mac.expose().begin(), mac.expose().end(), a.mac.begin());
  return login::to_header(a);
}

login::ChargeOrder sign_order(login::ChargeOrder order, const std::string& key_pem) {
  const auto key = pki::key_from_pem(key_pem);
  if (!key) throw std::runtime_error("the certificate's key does not load");
  order.signature = pki::es256_sign(key.get(), login::canonical_order(order));
  return order;
}

RoamingLogin::RoamingLogin(HttpTransport& transport, HomeProfile profile, std::string_view password)
    : transport_(transport),
      profile_(std::move(profile)),
      pwd_key_(login::pwd_key(password, profile_.nai)) {}

RoamingLogin::RoamingLogin(HttpTransport& transport, HomeProfile profile,
                           const aka::Secret<32>& pwd_key)
    : transport_(transport), profile_(std::move(profile)), pwd_key_(pwd_key) {}

Expected<LoginOutcome> RoamingLogin::run() {
  LoginOutcome out;
  // M1: who and what time it is where we are.
  auto t0 = Clock::now();
  const auto m1 = transport_.request("GET", "/v1/agent", "", "", {});
  if (m1.status != 200) return error_of(m1);
  std::string visited;
  std::int64_t time = 0;
  try {
    const auto j = nlohmann::json::parse(m1.body);
    visited = j.at("realm").get<std::string>();
    time = j.at("time").get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
    return malformed("M1: expected {realm, time}");
  }
  if (!ident::valid_realm(visited)) return malformed("M1: realm");
  out.steps.push_back({"M1 agent", ms_since(t0), "visited realm " + visited});

  // A key made here; the CSR's own signature proves we hold it.
  t0 = Clock::now();
  const auto key = pki::generate_key();
  std::string csr = pki::make_csr(key.get(), profile_.nai);
  if (csr_filter_) csr = csr_filter_(std::move(csr));
  const auto spki = *aka::from_hex_fixed<32>(pki::spki_sha256(key.get()));
  out.steps.push_back({"key pair and CSR", ms_since(t0), "P-256"});

  // M2: the NAI and HV sealed to the home agent; the FA can read neither.
  t0 = Clock::now();
  login::LoginRequest m;
  m.home_realm = profile_.home_realm;
  m.visited_realm = ident::lower(visited);
  m.n1 = random_nonce();
  m.time = time + time_offset_s_;
  const auto dp = login::canonical_json(device_profile_);
  if (!dp) return Error{0, "bad-profile", "device profile: not JSON"};
  m.device_profile = *dp;
  m.csr = csr;
  login::HvInput in{profile_.nai, m.n1, m.time, m.visited_realm, login::device_profile_hash(m),
                    spki};
  const auto hv = login::hv(pwd_key_, in);
  const auto e = login::generate_keypair();
  std::string identity = login::to_json(login::Identity{profile_.nai, hv});
  auto sealed = login::seal(e.priv, profile_.login_public, m.n1, identity, login::login_aad(m));
  OPENSSL_cleanse(identity.data(), identity.size());
  m.sealed = std::move(sealed.blob);
  const auto r =
      transport_.request("POST", "/v1/roaming/login", login::to_json(m), "application/json", {});
  out.steps.push_back({"M2 login", ms_since(t0), "HTTP " + std::to_string(r.status)});
  out.visited_realm = m.visited_realm;
  if (r.status != 200) {
    // The FA's own refusal (or a failure on the way): nothing the home agent said.
    const auto err = error_of(r);
    if (r.status == 0) return err;
    out.reason = err.code;
    return out;
  }

  // M5.
  t0 = Clock::now();
  auto parsed = login::parse_visitor_answer(r.body);
  if (auto* p = std::get_if<wire::Problem>(&parsed)) return malformed("M5: " + p->detail);
  auto& m5 = std::get<login::VisitorAnswer>(parsed);
  if (auto* n = std::get_if<login::Nack>(&m5)) {
    out.reason = login::to_string(n->reason);
    if (!n->proof.empty() && n->n2) {
      if (const auto proof = login::open_proof(sealed.z, n->proof);
          proof && proof->reason == n->reason) {
        out.proven = true;
        if (proof->hv2)
          out.password_right = login::equal(login::hv2(pwd_key_, *n->n2, hv), proof->hv2->expose());
      }
    }
    out.steps.push_back(
        {"M5 refusal", ms_since(t0),
         out.reason + (out.proven ? " (proven by the home agent)" : " (not provable)")});
    return out;
  }
  const auto& ack = std::get<login::VisitorAck>(m5);
  const auto k = login::k_master(sealed.z, pwd_key_, m.n1);
  out.ks2 = login::ks2(k, ack.n2);
  auto plain = login::aead_open(out.ks2, ack.sealed, {});
  if (!plain) return malformed("M5: the ticket does not open under Ks2 (not from our home agent)");
  const auto ticket = login::parse_ticket(*plain);
  OPENSSL_cleanse(plain->data(), plain->size());
  if (!ticket) return malformed("M5: malformed ticket");
  if (ticket->nai != profile_.nai) return malformed("M5: the ticket names " + ticket->nai);
  out.ks3 = login::ks3(k, ticket->n3);
  if (!login::equal(login::confirm(out.ks3, profile_.nai, ack.n2, ticket->n3, ticket->certificate),
                    ticket->confirm.expose()))
    return malformed("M5: the home agent's confirmation does not verify");
  // The certificate: our key, our NAI, chaining to the home user CA.
  const auto cert = pki::cert_from_pem(ticket->certificate);
  if (!cert) return malformed("M5: certificate");
  if (pki::spki_sha256(cert.get()) != pki::spki_sha256(key.get()))
    return malformed("M5: the certificate is not for our key");
  if (pki::subject_nai(cert.get()) != profile_.nai) return malformed("M5: the certificate's NAI");
  std::vector<pki::Cert> chain;
  for (const auto& pem : ticket->chain)
    if (auto c = pki::cert_from_pem(pem)) chain.push_back(std::move(c));
  const auto root = pki::cert_from_pem(profile_.user_ca);
  std::vector<const X509*> mids;
  for (const auto& c : chain) mids.push_back(c.get());
  if (const auto bad = pki::verify_chain(cert.get(), mids, {root.get()}, pki::Purpose::tls_client,
                                         std::time(nullptr)))
    return malformed("M5: the certificate does not chain to the home user CA: " + bad->detail);
  out.accepted = true;
  out.key_pem = pki::private_key_pem(key.get());
  out.cert_pem = ticket->certificate;
  for (const auto& c : chain) out.chain_pem += pki::to_pem(c.get());
  out.chain_pem += pki::to_pem(root.get());
  out.serial = pki::serial_hex(cert.get());
  out.expires = ticket->expires;
  out.session = ticket->session;
  out.ha_session = ticket->ha_session;
  out.steps.push_back({"M5 ticket", ms_since(t0), "certificate " + out.serial});
  return out;
}

Expected<LoginOutcome> renew(HttpTransport& transport, const HomeProfile& profile,
                             const std::string& ha_session, const aka::Secret<32>& ks3) {
  const auto key = pki::generate_key();
  const nlohmann::json j{{"home_realm", profile.home_realm},
                         {"csr", pki::make_csr(key.get(), profile.nai)}};
  const std::string body = j.dump();
  const auto ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const auto r = transport.request(
      "POST", "/v1/roaming/renew", body, "application/json",
      {{"Authorization",
        session_authorization(ha_session, ks3, "POST", "/v1/roaming/renew", body, ts)}});
  if (r.status != 200) return error_of(r);
  LoginOutcome out;
  std::vector<pki::Cert> chain;
  try {
    const auto a = nlohmann::json::parse(r.body);
    out.cert_pem = a.at("certificate").get<std::string>();
    for (const auto& c : a.at("chain"))
      if (auto x = pki::cert_from_pem(c.get<std::string>())) chain.push_back(std::move(x));
    out.expires = a.at("expires").get<std::string>();
  } catch (const nlohmann::json::exception&) {
    return malformed("renewal: expected {certificate, chain, expires}");
  }
  const auto cert = pki::cert_from_pem(out.cert_pem);
  const auto root = pki::cert_from_pem(profile.user_ca);
  if (!cert || pki::spki_sha256(cert.get()) != pki::spki_sha256(key.get()) ||
      pki::subject_nai(cert.get()) != profile.nai)
    return malformed("renewal: not a certificate for our key and NAI");
  std::vector<const X509*> mids;
  for (const auto& c : chain) mids.push_back(c.get());
  if (const auto bad = pki::verify_chain(cert.get(), mids, {root.get()}, pki::Purpose::tls_client,
                                         std::time(nullptr)))
    return malformed("renewal: does not chain to the home user CA: " + bad->detail);
  out.accepted = true;
  out.key_pem = pki::private_key_pem(key.get());
  for (const auto& c : chain) out.chain_pem += pki::to_pem(c.get());
  out.chain_pem += pki::to_pem(root.get());
  out.serial = pki::serial_hex(cert.get());
  out.ha_session = ha_session;
  return out;
}

}  // namespace oag::client
