#include "client/gateway.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proto/aka/hex.hpp"

namespace oag::client {

std::string Error::to_string() const {
  return std::to_string(status) + " " + code + ": " + detail;
}

GatewayClient::GatewayClient(GatewayOptions options) : https_(options) {
  if (options.cert_file.empty()) throw std::runtime_error("cert_file: required (mutual TLS)");
}

GatewayClient::~GatewayClient() = default;

unsigned GatewayClient::connections_opened() const {
  return https_.connections_opened();
}

HttpsReply GatewayClient::post(const std::string& path, const std::string& body) {
  return https_.request("POST", path, body, "application/json");
}

Error error_of(const HttpsReply& r) {
  Error e;
  e.status = r.status;
  if (r.status == 0) {
    e.code = "transport";
    e.detail = r.error;
    return e;
  }
  try {
    const auto j = nlohmann::json::parse(r.body);
    const auto type = j.value("type", std::string());
    e.code = type.substr(type.rfind('/') + 1);
    e.detail = j.value("detail", std::string());
  } catch (const std::exception&) {
    e.code = "http-" + std::to_string(r.status);
  }
  return e;
}

Expected<VectorSet> GatewayClient::fetch_vectors(const std::string& nai, ident::Kind kind,
                                                 unsigned count) {
  const auto r = post(
      "/v1/vectors",
      nlohmann::json{{"nai", nai}, {"kind", std::string(ident::to_string(kind))}, {"count", count}}
          .dump());
  if (r.status != 200) return error_of(r);
  auto parsed = wire::parse_vectors_response(r.body);
  if (auto* p = std::get_if<wire::Problem>(&parsed))
    return Error{r.status, "malformed-answer", p->detail};
  auto s = std::get<VectorSet>(std::move(parsed));
  if (s.vectors.size() != count || s.subject != nai || s.issuer.empty())
    return Error{r.status, "malformed-answer", "not the vectors asked for"};
  return s;
}

std::optional<Error> GatewayClient::report_result(const std::string& vector_id, bool success) {
  const auto r = post("/v1/vectors/" + vector_id + "/result",
                      nlohmann::json{{"outcome", success ? "success" : "failure"}}.dump());
  if (r.status == 204) return std::nullopt;
  return error_of(r);
}

std::optional<Error> GatewayClient::resync(const aka::Bytes<16>& rand, const aka::Auts& auts) {
  const auto r =
      post("/v1/resync",
           nlohmann::json{{"rand", aka::to_hex(rand)}, {"auts", aka::to_hex(auts)}}.dump());
  if (r.status == 204) return std::nullopt;
  return error_of(r);
}

Expected<std::string> GatewayClient::renew(const std::string& csr_pem, bool revoke_old) {
  const auto r = https_.request(
      "POST", revoke_old ? "/v1/certificates/renew?revoke-old=true" : "/v1/certificates/renew",
      csr_pem, "application/pkcs10");
  if (r.status != 200) return error_of(r);
  return r.body;
}

Expected<wire::CertificatesAnswer> GatewayClient::certificates(const std::string& nai) {
  const auto r = https_.request("GET", "/v1/certificates/" + wire::percent_encode(nai), "", "");
  if (r.status != 200) return error_of(r);
  auto parsed = wire::parse_certificates_response(r.body, true);
  if (auto* p = std::get_if<wire::Problem>(&parsed))
    return Error{r.status, "malformed-answer", p->detail};
  return std::get<wire::CertificatesAnswer>(std::move(parsed));
}

}  // namespace oag::client
