#pragma once
// The endpoint's client to its own AG (DESIGN §3, §5): mutual TLS with the certificate its
// operator issued, pooled keep-alive connections, blocking calls with a deadline. Safe to use
// from several threads (each call takes a pooled connection or opens one).

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "client/https.hpp"
#include "proto/aka/bytes.hpp"
#include "proto/aka/vector.hpp"
#include "proto/wire/certificates.hpp"
#include "proto/wire/messages.hpp"

namespace oag::client {

/// Where the AG is and how to prove who we are (its endpoint listener, our certificate).
using GatewayOptions = HttpsOptions;

/// A failed call: transport (status 0) or the AG's problem+json.
struct Error {
  int status = 0;      ///< HTTP status, 0 when no answer came
  std::string code;    ///< problem code (last path segment of `type`), or "transport"
  std::string detail;  ///< problem detail or transport error
  /// "status code: detail".
  std::string to_string() const;
};

/// Vectors of one subject: subject, issuer and the one-time vectors.
using VectorSet = wire::VectorsAnswer;

/// Either a value or an Error.
template <typename T>
using Expected = std::variant<T, Error>;

/// What the mutual authentication needs from an AG (GatewayClient implements it over HTTPS).
class AuthGateway {
 public:
  virtual ~AuthGateway() = default;
  /// POST /v1/vectors.
  virtual Expected<VectorSet> fetch_vectors(const std::string& nai, ident::Kind kind,
                                            unsigned count) = 0;
  /// POST /v1/vectors/{id}/result; nullopt on success.
  virtual std::optional<Error> report_result(const std::string& vector_id, bool success) = 0;
  /// POST /v1/resync for our own subscription; nullopt on success.
  virtual std::optional<Error> resync(const aka::Bytes<16>& rand, const aka::Auts& auts) = 0;
};

/// What the certificate-signed call needs from an AG (DESIGN §8): a subject's certificates
/// with the anchor the AG vouches for (GatewayClient implements it over HTTPS).
class CertDirectory {
 public:
  virtual ~CertDirectory() = default;
  /// GET /v1/certificates/{nai}.
  virtual Expected<wire::CertificatesAnswer> certificates(const std::string& nai) = 0;
};

/// The problem an AG answered (status 0: transport), out of an HTTPS reply.
Error error_of(const HttpsReply& r);

/// The endpoint's HTTPS client to its own gateway.
class GatewayClient final : public AuthGateway, public CertDirectory {
 public:
  /// Loads the CA, certificate and key; throws std::runtime_error naming the file that failed.
  explicit GatewayClient(GatewayOptions options);
  ~GatewayClient() override;
  GatewayClient(const GatewayClient&) = delete;
  GatewayClient& operator=(const GatewayClient&) = delete;

  Expected<VectorSet> fetch_vectors(const std::string& nai, ident::Kind kind,
                                    unsigned count = 1) override;
  std::optional<Error> report_result(const std::string& vector_id, bool success) override;
  std::optional<Error> resync(const aka::Bytes<16>& rand, const aka::Auts& auts) override;
  Expected<wire::CertificatesAnswer> certificates(const std::string& nai) override;

  /// POST /v1/certificates/renew: a certificate for the key of `csr_pem` (PEM), as the leaf and
  /// its chain in PEM; `revoke_old` revokes the certificate this client presents.
  Expected<std::string> renew(const std::string& csr_pem, bool revoke_old);

  /// TLS connections opened so far (the pool's effect is visible here).
  unsigned connections_opened() const;

 private:
  HttpsReply post(const std::string& path, const std::string& body);

  HttpsClient https_;
};

}  // namespace oag::client
