#pragma once
// The roaming login for a password user (DESIGN §7), on the device: make a P-256 key and its
// CSR, seal the NAI and HV to the home agent's login key, send M2 to the gateway of the network
// visited (or the home gateway), and check what comes back: a ticket that opens under Ks2
// (which only the home agent could give the foreign agent), the home agent's confirmation under
// Ks3, a certificate that holds our key and chains to the home user CA; or a refusal whose proof
// (when there is one) only the home agent could have sealed. No Asio: any HttpTransport.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/enroll.hpp"
#include "proto/login/keys.hpp"
#include "proto/login/messages.hpp"

namespace oag::client {

/// The home profile (`oagctl subscriber profile`): handed over at registration with the password.
struct HomeProfile {
  std::string nai;                  ///< the user
  std::string home_realm;           ///< her home realm
  login::PublicKey login_public{};  ///< the home agent's X25519 login key
  std::string user_ca;              ///< the home endpoint CA (PEM): the anchor of her certificate
  std::string visitor_url;          ///< the home gateway's visitor listener
};
/// Parses a profile; an Error names the field.
Expected<HomeProfile> parse_profile(const std::string& json);

/// One step of the exchange and how long it took.
struct LoginStep {
  std::string name;    ///< "M1 agent", "key pair and CSR", ...
  double ms = 0;       ///< wall time
  std::string detail;  ///< what it found
};

/// What a login gave.
struct LoginOutcome {
  bool accepted = false;         ///< logged in
  std::vector<LoginStep> steps;  ///< the steps in order
  // accepted:
  std::string visited_realm;  ///< where (the FA's realm, from M1)
  std::string key_pem;        ///< the new private key (PKCS#8: keep it 0600)
  std::string cert_pem;       ///< the certificate
  std::string chain_pem;      ///< issuing CA, then the home user CA
  std::string serial;         ///< the certificate's serial
  std::string expires;        ///< its notAfter (RFC 3339)
  std::string session;        ///< the FA's session id
  std::string ha_session;     ///< the home agent's session id (renewals, under Ks3)
  aka::Secret<32> ks2;        ///< session key with the FA
  aka::Secret<32> ks3;        ///< session key with the HA
  // refused:
  std::string reason;           ///< the NACK's reason or the FA's problem code
  bool proven = false;          ///< the home agent's proof opened (it, not the FA, refused)
  bool password_right = false;  ///< the proof held HV2 and it verified
};

/// `Authorization: OAG-Session ...` for a request in a visitor session (Ks2 with the FA; Ks3 for
/// a renewal) at client time `ts_ms`.
std::string session_authorization(const std::string& session, const aka::Secret<32>& key,
                                  std::string_view method, std::string_view path,
                                  std::string_view body, std::int64_t ts_ms);

/// Signs `order` (ES256 over its canonical form) with the private key in `key_pem`; throws
/// std::runtime_error when the key does not load.
login::ChargeOrder sign_order(login::ChargeOrder order, const std::string& key_pem);

/// A renewal through `transport` (any FA's visitor listener, or the home one): a new key and
/// certificate, authenticated end to end to the home agent with Ks3 of `ha_session`. On
/// success `out` gets key_pem, cert_pem, chain_pem (issuing CA and home user CA), serial,
/// expires; the certificate is checked to hold the new key and chain to the home user CA.
Expected<LoginOutcome> renew(HttpTransport& transport, const HomeProfile& profile,
                             const std::string& ha_session, const aka::Secret<32>& ks3);

/// One login through `transport` (the visitor listener of the FA, or of the home gateway).
class RoamingLogin {
 public:
  /// With the password (pwd_key is derived here: scrypt, ~0.1 s).
  RoamingLogin(HttpTransport& transport, HomeProfile profile, std::string_view password);
  /// With pwd_key precomputed (benchmarks).
  RoamingLogin(HttpTransport& transport, HomeProfile profile, const aka::Secret<32>& pwd_key);
  /// The device profile sent (and covered by HV); default {"app":"oag"}.
  void set_device_profile(std::string canonical_json) {
    device_profile_ = std::move(canonical_json);
  }
  /// Sends M2 with this Unix time instead of M1's (tests: a stale login).
  void set_time_offset_s(std::int64_t s) { time_offset_s_ = s; }
  /// Replaces the CSR after it is made, before HV and the seal cover it (tests: a device that
  /// sends a request its key did not sign).
  void set_csr_filter(std::function<std::string(std::string)> f) { csr_filter_ = std::move(f); }
  /// Runs M1..M5; an Error only when the exchange could not run (transport, malformed answer).
  Expected<LoginOutcome> run();

 private:
  HttpTransport& transport_;
  HomeProfile profile_;
  aka::Secret<32> pwd_key_;
  std::string device_profile_ = R"({"app":"oag"})";
  std::int64_t time_offset_s_ = 0;
  std::function<std::string(std::string)> csr_filter_;
};

}  // namespace oag::client
