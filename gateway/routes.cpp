#include "gateway/routes.hpp"

#include "gateway/api/public.hpp"

namespace oag::gateway {

namespace {

const std::vector<std::string> kJson = {"application/json"};
const std::vector<std::string> kPkcs10 = {"application/pkcs10"};

template <typename T, typename Parse>
std::function<std::variant<T, wire::Problem>(const Call&)> body_parser(Parse p) {
  return [p](const Call& c) { return p(c.req.body); };
}

}  // namespace

std::vector<Route> Routes::table() {
  using L = Listener;
  const auto endpoint_vectors = body_parser<wire::VectorRequest>(
      [](const std::string& b) { return wire::parse_vector_request(b, false); });
  const auto federation_vectors = body_parser<wire::VectorRequest>(
      [](const std::string& b) { return wire::parse_vector_request(b, true); });
  const auto result = body_parser<wire::ResultReport>(wire::parse_result_report);
  const auto resync = body_parser<wire::ResyncRequest>(wire::parse_resync_request);
  const auto plain = [this](void (*f)(const Services&, Call, Reply)) {
    return Handler([this, f](Call c, Reply r) { f(svc_, std::move(c), std::move(r)); });
  };
  return {
      // name, listener, method, path, content types, authentication, body limit, handler
      {"vectors", L::endpoint, "POST", "/v1/vectors", kJson, Auth::endpoint_subscriber, 4096,
       parse_then<wire::VectorRequest>(endpoint_vectors,
                                       [this](Call c, wire::VectorRequest v, Reply r) {
                                         endpoint_.vectors(std::move(c), std::move(v), r);
                                       })},
      {"result", L::endpoint, "POST", "/v1/vectors/{id}/result", kJson, Auth::endpoint_subscriber,
       1024,
       parse_then<wire::ResultReport>(result,
                                      [this](Call c, wire::ResultReport v, Reply r) {
                                        endpoint_.result(std::move(c), v, r);
                                      })},
      {"resync", L::endpoint, "POST", "/v1/resync", kJson, Auth::endpoint_subscriber, 1024,
       parse_then<wire::ResyncRequest>(resync,
                                       [this](Call c, wire::ResyncRequest v, Reply r) {
                                         endpoint_.resync(std::move(c), v, r);
                                       })},
      {"federation", L::federation, "POST", "/v1/federation/vectors", kJson, Auth::federation_peer,
       4096,
       parse_then<wire::VectorRequest>(federation_vectors,
                                       [this](Call c, wire::VectorRequest v, Reply r) {
                                         issuer_.vectors(std::move(c), std::move(v), r);
                                       })},
      {"renew", L::endpoint, "POST", "/v1/certificates/renew", kPkcs10, Auth::endpoint_subscriber,
       8192,
       parse_then<std::shared_ptr<pki::Csr>>(
           api::parse_renew, [this](Call c, std::shared_ptr<pki::Csr> csr,
                                    Reply r) { enroll_.renew(std::move(c), std::move(csr), r); })},
      {"certificates",
       L::endpoint,
       "GET",
       "/v1/certificates/{nai}",
       {},
       Auth::endpoint_subscriber,
       0,
       [this](Call c, Reply r) { certificates_.lookup(std::move(c), r); }},
      {"federation-certificates",
       L::federation,
       "GET",
       "/v1/federation/certificates/{nai}",
       {},
       Auth::federation_peer,
       0,
       [this](Call c, Reply r) { certificates_.federation(std::move(c), r); }},
      {"public-certificate",
       L::visitor,
       "GET",
       "/v1/public/certificates/{file}",
       {},
       Auth::none,
       0,
       [this](Call c, Reply r) { certificates_.public_pem(std::move(c), r); }},
      {"agent", L::visitor, "GET", "/v1/agent", {}, Auth::none, 0, plain(api::agent)},
      {"enroll", L::visitor, "POST", "/v1/enroll", kPkcs10, Auth::none, 8192,
       parse_then<api::EnrollRequest>([this](const Call& c) { return enroll_.parse(c); },
                                      [this](Call c, api::EnrollRequest e, Reply r) {
                                        enroll_.enroll(std::move(c), std::move(e), r);
                                      })},
      {"roaming-login", L::visitor, "POST", "/v1/roaming/login", kJson, Auth::none, 16384,
       parse_then<roaming::LoginCall>([](const Call& c) { return roaming::parse_login(c, false); },
                                      [this](Call c, roaming::LoginCall m, Reply r) {
                                        roaming_.visitor_login(std::move(c), std::move(m), r);
                                      })},
      {"federation-roaming-login", L::federation, "POST", "/v1/federation/roaming/login", kJson,
       Auth::federation_peer, 16384,
       parse_then<roaming::LoginCall>([](const Call& c) { return roaming::parse_login(c, true); },
                                      [this](Call c, roaming::LoginCall m, Reply r) {
                                        roaming_.federation_login(std::move(c), std::move(m), r);
                                      })},
      {"roaming-renew", L::visitor, "POST", "/v1/roaming/renew", kJson, Auth::none, 8192,
       [this](Call c, Reply r) { roaming_.visitor_renew(std::move(c), r); }},
      {"federation-roaming-renew", L::federation, "POST", "/v1/federation/roaming/renew", kJson,
       Auth::federation_peer, 16384,
       [this](Call c, Reply r) { roaming_.federation_renew(std::move(c), r); }},
      {"charges", L::visitor, "POST", "/v1/visitor/charges", kJson, Auth::visitor_session, 4096,
       parse_then<login::ChargeOrder>([](const Call& c) { return login::parse_charge(c.req.body); },
                                      [this](Call c, login::ChargeOrder o, Reply r) {
                                        charges_.charge(std::move(c), std::move(o), r);
                                      })},
      {"healthz", L::ops, "GET", "/healthz", {}, Auth::none, 0, plain(api::healthz)},
      {"readyz", L::ops, "GET", "/readyz", {}, Auth::none, 0, plain(api::readyz)},
      {"metrics", L::ops, "GET", "/metrics", {}, Auth::none, 0, plain(api::metrics)},
  };
}

}  // namespace oag::gateway
