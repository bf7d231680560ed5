#include "gateway/problems.hpp"

#include "gateway/log.hpp"
#include "gateway/services.hpp"

namespace oag::gateway {

Response plain_response(int status, std::string content_type, std::string body, std::string route) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.route = std::move(route);
  return r;
}

Response json_response(int status, std::string body, std::string route) {
  return plain_response(status, "application/json", std::move(body), std::move(route));
}

Response no_content(std::string route) {
  Response r;
  r.status = 204;
  r.route = std::move(route);
  return r;
}

Response problem(const wire::Problem& p, std::string route) {
  Response r = json_response(p.status, wire::to_json(p), std::move(route));
  r.content_type = "application/problem+json";
  return r;
}

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

Response store_problem(const storage::Error& e, std::string route) {
  Response r = problem(problem_of(e), std::move(route));
  if (e.code == storage::Errc::unavailable) {
    r.internal = e.detail;  // logged, never sent
    r.internal_event = log::event::kStoreError;
  }
  return r;
}

Response internal_error(const std::string& what, std::string route) {
  const std::string incident = random_hex(8);
  Response r = problem({500, "internal", "Internal error",
                        "incident " + incident + ": the operator's log has the cause"},
                       std::move(route));
  r.internal = "incident " + incident + ": " + what;
  r.internal_event = log::event::kInternalError;
  return r;
}

}  // namespace oag::gateway
