#pragma once
// The home agent of DESIGN §7: decides a login of one of our users, relayed by a foreign agent
// (M3 → M4) or made at home (M2 → M5), in §7's order: seal, time, nonce, lock, HV, state, CSR.
// Only it can open the seal (the login key) and check HV (pwd_key); whatever it decides it
// commits (nonce, failures, or certificate and billing, and the answer for a retry) before it
// answers. An unknown NAI is checked against a dummy key, so that neither the answer nor its
// time tells it from a wrong password.

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "proto/login/messages.hpp"
#include "proto/pki/csr.hpp"

namespace oag::gateway::roaming {

/// A parsed login request and its CSR, decoded once (an OpenSSL 3 key decode is the dearest
/// step of a login: the FA's check and the HA's share it).
struct LoginCall {
  login::LoginRequest m;          ///< M2 or M3
  std::shared_ptr<pki::Csr> csr;  ///< its CSR, decoded, the signature not yet checked
};

/// Through whom a login came.
struct Relay {
  std::string agreement;          ///< the agreement with the foreign agent ("" at home)
  std::int64_t price_micros = 0;  ///< the price of a login under it
  std::string currency;           ///< its currency
};

/// Builds M5 from the home agent's acceptance: the ticket sealed under Ks2 for the user.
std::string visitor_ack(const login::HomeAck& ack, const std::string& session);

/// The session id a foreign agent (or the home agent at home) gives a login: derived from Ks2
/// and the request id, so that a retried M2 finds the session its first try made.
std::string session_id(const aka::Secret<32>& ks2, const std::string& request_id);

/// The request id an M2 is relayed under: the same M2 (a client's retry) gets the same one, so
/// that the home agent answers it from what it stored.
std::string relay_request_id(const login::LoginRequest& m);

/// The home agent.
class HomeAgent {
 public:
  /// Loads the login key of the configuration in force (none: logins answer 404).
  explicit HomeAgent(const Services& svc);
  /// True when logins can be decided here (login key, issuing CA, roaming enabled).
  bool enabled() const;
  /// Decides `m` (relayed under `relay`, or at home when relay.agreement is empty) and answers:
  /// 200 with M4 (relayed) or M5 (at home), or a problem. Call on any thread.
  void login(LoginCall call, Relay relay, const std::string& route, Reply reply);
  /// A renewal (POST /v1/roaming/renew as the user sent it, here or through any FA): `body` is
  /// {"home_realm","csr"}, `authorization` its OAG-Session header under Ks3 of our session with
  /// the user. Answers 200 {"certificate","chain","expires"} or a problem (401 when the MAC,
  /// the session or its time do not hold).
  void renew(std::string body, std::string authorization, const std::string& route, Reply reply);

 private:
  // Everything after the seal opened, on a store thread.
  void decide(LoginCall call, Relay relay, login::Identity id, aka::Secret<32> z,
              const std::string& route, Reply reply);

  const Services& svc_;
  std::mutex mu_;
  std::map<std::string, std::set<std::int64_t>> renew_ts_;  // timestamps used, per session
  std::optional<login::PrivateKey> login_key_;
  login::PublicKey login_pub_{};
  aka::Secret<32> dummy_;  // the pwd_key an unknown NAI is checked against
};

}  // namespace oag::gateway::roaming
