#pragma once
// SIM enrollment for an endpoint (DESIGN §9): make a P-256 key, prove the SIM to the own
// gateway's visitor listener with HTTP Digest AKA (RFC 3310: the SIM checks AUTN and answers
// with RES, or sends AUTS when its sequence number is ahead), and receive a certificate for the
// key, after checking that the gateway's rspauth proves it knew XRES.

#include <optional>
#include <string>
#include <variant>

#include "client/gateway.hpp"
#include "client/https.hpp"
#include "client/soft_sim.hpp"

namespace oag::client {

/// What an enrollment gives: the key (PEM, keep it private), the certificate and its chain.
struct Enrolled {
  std::string key_pem;    ///< PKCS#8 private key
  std::string cert_pem;   ///< the leaf, SAN URI sip:NAI
  std::string chain_pem;  ///< the issuing CA between the leaf and the endpoint CA
  std::string serial;     ///< the leaf's serial, lower-case hex
};

/// Sends one HTTP request (the HTTPS client; tests put a tampering layer in between).
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  /// As HttpsClient::request.
  virtual HttpsReply request(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& content_type,
                             const std::vector<std::pair<std::string, std::string>>& headers) = 0;
};

/// HttpTransport over an HttpsClient.
class HttpsTransport final : public HttpTransport {
 public:
  /// Uses `client` (which must outlive this).
  explicit HttpsTransport(HttpsClient& client) : client_(client) {}
  HttpsReply request(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& content_type,
                     const std::vector<std::pair<std::string, std::string>>& headers) override {
    return client_.request(method, path, body, content_type, headers);
  }

 private:
  HttpsClient& client_;
};

/// One enrollment of `nai` with `sim` through `transport` (the visitor listener).
class Enroll {
 public:
  /// `path` is the enrollment route.
  Enroll(HttpTransport& transport, SoftSim& sim, std::string nai, std::string path = "/v1/enroll")
      : transport_(transport), sim_(sim), nai_(std::move(nai)), path_(std::move(path)) {}
  /// Runs the exchange (at most one resynchronisation); an Error names what failed: the
  /// gateway's problem code, or "network-not-authentic" (AUTN or rspauth wrong),
  /// "malformed-challenge", "malformed-answer".
  Expected<Enrolled> run();

 private:
  HttpTransport& transport_;
  SoftSim& sim_;
  std::string nai_;
  std::string path_;
};

}  // namespace oag::client
