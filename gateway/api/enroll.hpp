#pragma once
// SIM enrollment (DESIGN §9): an endpoint proves its SIM with HTTP Digest AKA (RFC 3310) and gets
// a certificate for the key its CSR proves; and renewal with the current certificate.
//
// The first request names the NAI (Authorization with an empty nonce) and carries the CSR; the
// answer is 401 with a challenge whose nonce is base64(RAND ‖ AUTN) of a vector issued for it
// (billed `local`, kind `enroll`). The challenge is held here, usable once and for 30 s. The
// second request answers with RES as the Digest password, qop auth-int over the same CSR body;
// a right answer gets 200 with the chain and Authentication-Info rspauth (which only a holder
// of XRES can compute). An unknown NAI gets a decoy challenge of the same shape, so that the
// answers do not tell subscribers from strangers.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "gateway/token_buckets.hpp"
#include "proto/digest/digest.hpp"
#include "proto/pki/csr.hpp"

namespace oag::gateway::api {

/// A request to POST /v1/enroll after parsing: the CSR and the Digest credentials.
struct EnrollRequest {
  std::shared_ptr<pki::Csr> csr;  ///< the CSR, its proof of possession verified
  std::string body_sha256;        ///< hex SHA-256 of the body (the CSR as sent)
  digest::Params credentials;     ///< the Authorization parameters (username at least)
};
/// Parses POST /v1/certificates/renew: a PKCS#10 body.
std::variant<std::shared_ptr<pki::Csr>, wire::Problem> parse_renew(const Call& call);

/// The enrollment and renewal handlers and the challenges in flight.
class EnrollApi {
 public:
  /// How long a challenge may be answered.
  static constexpr std::int64_t kChallengeMs = 30'000;
  /// Most CSRs of challenges in flight kept for their answers (a bound on memory).
  static constexpr std::size_t kMaxChallenges = 100'000;
  /// Most rate-limit buckets per kind (NAI, address) kept at once.
  static constexpr std::size_t kMaxBuckets = 100'000;

  /// Uses `svc` (its store, clock, issuing CA and the enroll settings in force).
  explicit EnrollApi(const Services& svc) : svc_(svc) {}
  /// Parses POST /v1/enroll: an Authorization header naming the NAI and a PKCS#10 body (the
  /// answer to a challenge reuses the CSR parsed with it when the body is the same bytes).
  std::variant<EnrollRequest, wire::Problem> parse(const Call& call);
  /// POST /v1/enroll (visitor listener).
  void enroll(Call call, EnrollRequest req, Reply reply);
  /// POST /v1/certificates/renew (endpoint listener): a new certificate for the caller's NAI;
  /// `?revoke-old=true` revokes the one it called with.
  void renew(Call call, std::shared_ptr<pki::Csr> csr, Reply reply);

 private:
  // A challenge's state. It travels sealed in the challenge's `opaque` (AES-256-GCM under the
  // master key, the NAI bound as associated data), so that whichever instance the answer
  // reaches can check it (DESIGN §10) and none has to remember it; that it is answered once is
  // the store's to say (the answer records the vector's result, which succeeds once).
  struct Challenge {
    std::string nai;
    std::string nonce;
    aka::Bytes<16> rand{};
    std::string vector_id;    // the enrollment vector (empty for a decoy)
    aka::SecretVec<32> xres;  // empty for a decoy
    bool decoy = false;
    std::int64_t created_ms = 0;
  };
  // The CSR a challenge was asked with, by opaque: the answer repeats it, and the one already
  // parsed (its signature checked) is used again when the bytes are the same. Only a cache:
  // an answer at another instance parses the CSR itself.
  struct CsrSeen {
    std::shared_ptr<pki::Csr> csr;
    std::string body_sha256;
    std::int64_t created_ms = 0;
  };
  std::string seal(const Challenge& c) const;
  std::optional<Challenge> open(const std::string& nai, const std::string& opaque) const;

  // A fresh challenge for `nai` (a decoy for a stranger), rate-limited; answers 401 or 429.
  void challenge(const std::string& nai, const EnrollRequest& req, const std::string& address,
                 const std::string& route, Reply reply);
  // Stores a challenge and answers 401 with it.
  void answer_challenge(const Challenge& c, const EnrollRequest& req, const std::string& route,
                        const Reply& reply);
  // The issued certificate, recorded before it is answered.
  void issue(const std::string& nai, pki::Csr& csr, const std::string& route,
             std::function<void(Response)> answer, const Reply& reply);

  const Services& svc_;
  std::mutex mu_;
  std::unordered_map<std::string, CsrSeen> csrs_;  // by opaque
  TokenBuckets per_nai_{kMaxBuckets}, per_address_{kMaxBuckets};
};

}  // namespace oag::gateway::api
