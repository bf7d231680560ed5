// The route table and its gates, without sockets: gate order (DESIGN §3), the table's own
// checks, the request boundary (an exception is one 500 `internal`), and oagd's real table.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <set>

#include "gateway/auth.hpp"
#include "gateway/log.hpp"
#include "gateway/roaming/session_auth.hpp"
#include "gateway/router.hpp"
#include "gateway/routes.hpp"
#include "proto/wire/messages.hpp"
#include "storage/master_key.hpp"
#include "tests/unit/support/temp_dir.hpp"

using namespace oag;
using namespace oag::gateway;
using nlohmann::json;

namespace {

// Synchronous dispatch: the response the router gave.
Response run(const Router& r, Listener l, std::string method, std::string target,
             std::string body = {}, std::string content_type = "application/json") {
  Request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  req.content_type = std::move(content_type);
  std::promise<Response> p;
  auto f = p.get_future();
  r.dispatch(l, std::move(req), Reply([&p](Response res) { p.set_value(std::move(res)); }));
  REQUIRE(f.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  return f.get();
}

std::string code_of(const Response& r) {
  const auto j = json::parse(r.body);
  const std::string t = j.at("type");
  return t.substr(t.rfind('/') + 1);
}

// Refuses everyone, and remembers that it was asked.
struct Refuser final : Authenticator {
  std::atomic<int> asked{0};
  void authenticate(const Request&, const std::string& route,
                    std::function<void(std::variant<Principal, Response>)> done) override {
    ++asked;
    done(problem({403, "no-agreement", "No", "certificate: not trusted by any agreement"}, route));
  }
};

// Accepts everyone as a peer with no agreements.
struct Acceptor final : Authenticator {
  void authenticate(const Request&, const std::string&,
                    std::function<void(std::variant<Principal, Response>)> done) override {
    done(Principal(PeerPrincipal{}));
  }
};

Route json_route(std::string name, Listener l, std::string method, std::string pattern, Auth a,
                 Handler h) {
  return Route{
      std::move(name), l, std::move(method), std::move(pattern), {"application/json"}, a, 100,
      std::move(h)};
}

Handler parse_vectors(std::atomic<int>& handled) {
  return parse_then<wire::VectorRequest>(
      [](const Call& c) { return wire::parse_vector_request(c.req.body, true); },
      [&handled](Call c, wire::VectorRequest, Reply r) {
        ++handled;
        r(no_content(c.route));
      });
}

}  // namespace

TEST_CASE(
    "gates: an unauthenticated peer with a malformed body gets the refusal, not a field "
    "error",
    "[gateway][router]") {
  auto refuser = std::make_shared<Refuser>();
  std::atomic<int> handled{0};
  Router r({json_route("fed", Listener::federation, "POST", "/v1/federation/vectors",
                       Auth::federation_peer, parse_vectors(handled))},
           {{Auth::federation_peer, refuser}});
  for (const std::string& body :
       std::vector<std::string>{"{not json", R"({"nai":"x"})", std::string(500, 'x')}) {
    const auto res = run(r, Listener::federation, "POST", "/v1/federation/vectors", body);
    CHECK(res.status == 403);
    CHECK(code_of(res) == "no-agreement");
  }
  // Even a wrong content type: authentication comes first.
  const auto res = run(r, Listener::federation, "POST", "/v1/federation/vectors", "x", "text/xml");
  CHECK(code_of(res) == "no-agreement");
  CHECK(refuser->asked == 4);
  CHECK(handled == 0);
}

TEST_CASE(
    "gates run in DESIGN §3's order: route, method, authentication, content type, body "
    "size, parse, handler",
    "[gateway][router]") {
  auto refuser = std::make_shared<Refuser>();
  std::atomic<int> handled{0};
  Router r({json_route("fed", Listener::federation, "POST", "/v1/federation/vectors",
                       Auth::federation_peer, parse_vectors(handled)),
            json_route("open", Listener::visitor, "POST", "/v1/open/{id}/x", Auth::none,
                       parse_vectors(handled))},
           {{Auth::federation_peer, refuser}});
  // Route: unknown path, and a path of another listener, are 404 before anything else.
  CHECK(run(r, Listener::federation, "GET", "/v1/nothing").status == 404);
  CHECK(run(r, Listener::visitor, "POST", "/v1/federation/vectors").status == 404);
  CHECK(run(r, Listener::visitor, "POST", "/v1/open/x").status == 404);  // segments must match
  // Method: 405 with Allow, before authentication.
  const auto m = run(r, Listener::federation, "GET", "/v1/federation/vectors", "{bad");
  CHECK(m.status == 405);
  CHECK(m.headers.at(0) == std::make_pair(std::string("Allow"), std::string("POST")));
  CHECK(refuser->asked == 0);
  // Content type, then body size, then parsing: on a route without authentication.
  const auto ct =
      run(r, Listener::visitor, "POST", "/v1/open/7/x", std::string(500, 'x'), "text/plain");
  CHECK(ct.status == 415);
  CHECK(run(r, Listener::visitor, "POST", "/v1/open/7/x", std::string(500, 'x')).status == 413);
  CHECK(code_of(run(r, Listener::visitor, "POST", "/v1/open/7/x", "{bad")) == "malformed-json");
  const auto field = run(r, Listener::visitor, "POST", "/v1/open/7/x", R"({"nai":"x"})");
  CHECK(field.status == 400);
  CHECK(json::parse(field.body).at("detail").get<std::string>().rfind("nai:", 0) == 0);
  // A media type with parameters and odd case is still JSON.
  const auto ok = run(r, Listener::visitor, "POST", "/v1/open/7/x",
                      R"({"nai":"a@b.c","kind":"aka","requester":"x@y.z","request_id":"1-2"})",
                      "Application/JSON; charset=utf-8");
  CHECK(ok.status == 204);
  CHECK(handled == 1);
}

TEST_CASE("path parameters are named, not offsets", "[gateway][router]") {
  CHECK(Router::match("/v1/vectors/{id}/result", "/v1/vectors/abc-1/result")->at("id") == "abc-1");
  CHECK_FALSE(Router::match("/v1/vectors/{id}/result", "/v1/vectors//result"));
  CHECK_FALSE(Router::match("/v1/vectors/{id}/result", "/v1/vectors/a/b/result"));
  CHECK_FALSE(Router::match("/v1/vectors/{id}/result", "/v1/vectors/a/result/"));
  CHECK(Router::match("/v1/agent", "/v1/agent"));
}

TEST_CASE("the request boundary: a throwing handler is one 500 with an incident id",
          "[gateway][router]") {
  Router r({Route{"throws",
                  Listener::visitor,
                  "GET",
                  "/t",
                  {},
                  Auth::none,
                  0,
                  [](Call, Reply) { throw std::runtime_error("boom: a bug"); }},
            Route{"late",
                  Listener::visitor,
                  "GET",
                  "/late",
                  {},
                  Auth::none,
                  0,
                  [](Call c, Reply reply) {
                    reply(no_content(c.route));
                    throw std::logic_error("after answering");
                  }},
            Route{"offloaded",
                  Listener::visitor,
                  "GET",
                  "/o",
                  {},
                  Auth::none,
                  0,
                  [](Call c, Reply reply) {
                    // A completion on another thread that throws: guarded() answers for it.
                    std::thread([reply, route = c.route] {
                      guarded(reply, route, [](int) { throw std::runtime_error("in a task"); })(1);
                    }).join();
                  }}},
           {});
  const auto res = run(r, Listener::visitor, "GET", "/t");
  CHECK(res.status == 500);
  CHECK(code_of(res) == "internal");
  CHECK(json::parse(res.body).at("detail").get<std::string>().find("incident ") == 0);
  CHECK(res.body.find("boom") == std::string::npos);  // the cause goes to the log only
  CHECK(res.internal.find("boom: a bug") != std::string::npos);
  CHECK(std::string(res.internal_event) == log::event::kInternalError);
  CHECK(res.internal_event != log::event::kStoreError);
  // Only the first answer counts.
  CHECK(run(r, Listener::visitor, "GET", "/late").status == 204);
  const auto off = run(r, Listener::visitor, "GET", "/o");
  CHECK(off.status == 500);
  CHECK(off.internal.find("in a task") != std::string::npos);
}

TEST_CASE("the table checks itself: authentication per listener, an authenticator for each",
          "[gateway][router]") {
  const auto h = [](Call, Reply) {};
  CHECK_THROWS_WITH(
      Router({Route{"a", Listener::visitor, "GET", "/x", {}, Auth::endpoint_subscriber, 0, h}}, {}),
      Catch::Contains("not available on the visitor listener"));
  CHECK_THROWS_WITH(
      Router({Route{"a", Listener::visitor, "GET", "/x", {}, Auth::visitor_session, 0, h}}, {}),
      Catch::Contains("no authenticator for visitor-session"));
  CHECK_THROWS_WITH(Router({Route{"a", Listener::ops, "GET", "/x", {}, Auth::none, 0, h},
                            Route{"b", Listener::ops, "GET", "/x", {}, Auth::none, 0, h}},
                           {}),
                    Catch::Contains("same listener, method and path"));
  CHECK_THROWS_WITH(Router({Route{"a", Listener::ops, "GET", "/x/{", {}, Auth::none, 0, h}}, {}),
                    Catch::Contains("malformed pattern"));
  CHECK_THROWS_WITH(Router({Route{"a", Listener::endpoint, "GET", "/x", {}, Auth::none, 0, h}}, {}),
                    Catch::Contains("none is not available on the endpoint listener"));
}

namespace {

std::unique_ptr<storage::Backend> open_store(const test::TempDir& dir) {
  storage::BackendConfig bc;
  bc.path = dir.file("oag.db");
  bc.create = true;
  bc.master_key =
      std::make_shared<storage::MasterKey>(storage::MasterKey::generate(dir.file("master.key")));
  return storage::open_backend(bc);
}

config::Config realm_config() {
  config::Config cfg;
  cfg.realm = "op-a.example";
  return cfg;
}

// oagd's real route table over a fresh SQLite store, for the tests of the table itself.
struct OagdTable {
  test::TempDir dir;
  std::unique_ptr<storage::Backend> store = open_store(dir);
  Metrics metrics;
  Runtime runtime{realm_config()};
  Services svc{*store,  metrics, runtime, [](Lane, std::function<void()> f) { f(); },
               nullptr, nullptr, wall_ms, nullptr,
               {}};
  Routes routes{svc};
};

}  // namespace

TEST_CASE(
    "oagd's route table: every route declares its authentication and the endpoint and "
    "federation routes require certificates and the visitor listener serves none of them",
    "[gateway][router][table]") {
  OagdTable t;
  auto& svc = t.svc;
  auto& routes = t.routes;
  const auto table = routes.table();
  std::set<std::string> seen;
  for (const auto& r : table) {
    INFO(r.name);
    seen.insert(r.name);
    switch (r.listener) {
      case Listener::endpoint:
        CHECK(r.auth == Auth::endpoint_subscriber);
        break;
      case Listener::federation:
        CHECK(r.auth == Auth::federation_peer);
        break;
      case Listener::visitor:
        CHECK(r.auth != Auth::endpoint_subscriber);
        CHECK(r.auth != Auth::federation_peer);
        break;
      case Listener::ops:
        CHECK(r.auth == Auth::none);
        CHECK(r.method == "GET");
        break;
    }
    if (r.method == "POST") CHECK(!r.content_types.empty());
    CHECK(r.body_limit <= 16384);
  }
  CHECK(seen == std::set<std::string>{"vectors", "result", "resync", "renew", "federation", "agent",
                                      "enroll", "roaming-login", "federation-roaming-login",
                                      "roaming-renew", "federation-roaming-renew", "charges",
                                      "certificates", "federation-certificates",
                                      "public-certificate", "healthz", "readyz", "metrics"});
  Router router(routes.table(),
                {{Auth::endpoint_subscriber, std::make_shared<EndpointAuthenticator>(svc)},
                 {Auth::federation_peer, std::make_shared<PeerAuthenticator>(svc)},
                 {Auth::visitor_session, std::make_shared<roaming::SessionAuthenticator>(svc)}});
  // The visitor listener refuses every endpoint and federation route.
  for (const auto& r : table)
    if (r.listener == Listener::endpoint || r.listener == Listener::federation) {
      std::string path = r.pattern;
      if (const auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, "x");
      if (const auto at = path.find("{nai}"); at != std::string::npos)
        path.replace(at, 5, "bob@op-a.example");
      CHECK(run(router, Listener::visitor, r.method, path, "{}").status == 404);
    }
  // M1 needs nobody.
  const auto agent = run(router, Listener::visitor, "GET", "/v1/agent");
  REQUIRE(agent.status == 200);
  CHECK(json::parse(agent.body).at("realm") == "op-a.example");
  // A peer whose chain is empty is refused before its body is read.
  const auto fed = run(router, Listener::federation, "POST", "/v1/federation/vectors", "{bad");
  CHECK(fed.status == 403);
  CHECK(code_of(fed) == "no-agreement");
}

TEST_CASE("docs/openapi.json has every route of the table, on its listener, and no other",
          "[gateway][router][openapi]") {
  OagdTable t;
  auto& routes = t.routes;
  std::ifstream in(std::string(OAG_SOURCE_DIR) + "/docs/openapi.json");
  REQUIRE(in);
  const auto doc = json::parse(in);
  CHECK(doc.at("openapi") == "3.1.0");
  std::set<std::string> documented;
  for (const auto& [path, item] : doc.at("paths").items())
    for (const auto& [method, op] : item.items()) documented.insert(op.at("operationId"));
  std::set<std::string> routed;
  for (const auto& r : routes.table()) {
    INFO(r.name << ": " << r.method << " " << r.pattern);
    routed.insert(r.name);
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    const auto item = doc.at("paths").find(r.pattern);
    REQUIRE(item != doc.at("paths").end());
    REQUIRE(item->contains(method));
    const auto& op = item->at(method);
    CHECK(op.at("operationId") == r.name);
    CHECK(op.at("x-oag-listener") == to_string(r.listener));
    CHECK(op.contains("responses"));
    // A route that takes a body documents each content type it accepts.
    for (const auto& ct : r.content_types) {
      INFO(ct);
      CHECK(op.at("requestBody").at("content").contains(ct));
    }
    // The endpoint and federation routes say which certificate they need.
    if (r.auth == Auth::endpoint_subscriber)
      CHECK(op.at("security") == json::parse(R"([{"endpointCertificate":[]}])"));
    if (r.auth == Auth::federation_peer)
      CHECK(op.at("security") == json::parse(R"([{"federationCertificate":[]}])"));
  }
  CHECK(documented == routed);
}
