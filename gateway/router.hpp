#pragma once
// The route table and its gates (DESIGN §3). Every route is one declaration; every request runs
// the gates in this order and no other: route -> method -> authentication -> content type ->
// body size -> parse and validate -> handler (transport limits ran before, in the server).
// A peer or a subscriber is authenticated before its body is read; an exception anywhere from
// the authentication on is one 500 `internal`.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gateway/http_types.hpp"
#include "gateway/principal.hpp"
#include "proto/wire/problem.hpp"

namespace oag::gateway {

/// The authentication a route requires.
enum class Auth {
  endpoint_subscriber,  ///< client certificate of our endpoint CA, an active subscriber
  federation_peer,      ///< peer certificate trusted by a current agreement
  visitor_session,      ///< an OAG-Session authorization (DESIGN §7)
  none,                 ///< anyone who reached the listener
};

/// "endpoint-subscriber", "federation-peer", "visitor-session" or "none".
const char* to_string(Auth a) noexcept;

/// Path parameters by name ("/v1/vectors/{id}/result" -> {"id": ...}).
using PathParams = std::map<std::string, std::string, std::less<>>;

/// What a handler gets: the request, who sent it, its path parameters.
struct Call {
  Request req;        ///< the request (body within the route's limit)
  Principal who;      ///< the authenticated caller
  PathParams params;  ///< path parameters
  std::string route;  ///< the route's name
};

/// A handler: from a call to exactly one response (through `reply`, from any thread).
using Handler = std::function<void(Call, Reply)>;

/// One row of the route table.
struct Route {
  std::string name;                        ///< metric and log label, unique
  Listener listener = Listener::endpoint;  ///< where it is served
  std::string method;                      ///< "GET", "POST", ...
  std::string pattern;  ///< "/v1/vectors/{id}/result": literal segments and {name}
  std::vector<std::string> content_types;  ///< accepted media types; empty = no body read
  Auth auth = Auth::none;                  ///< the authentication it requires
  unsigned body_limit = 0;                 ///< largest body in bytes (within limits.body_bytes)
  Handler handler;                         ///< the handler (which parses and validates first)
};

/// A typed route handler: `parse` validates the body (naming the field) before `handle` runs.
template <typename T>
Handler parse_then(std::function<std::variant<T, wire::Problem>(const Call&)> parse,
                   std::function<void(Call, T, Reply)> handle);

/// A query parameter of the request's target (`?a=1&b=2`), %XX decoded; nullopt when absent
/// or malformed.
std::optional<std::string> query_param(const Request& req, std::string_view name);

/// Decides who a request comes from; answers with a principal or a refusal.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  /// Calls `done` exactly once (any thread) with the principal or the refusal to send.
  virtual void authenticate(const Request& req, const std::string& route,
                            std::function<void(std::variant<Principal, Response>)> done) = 0;
};

/// The table and its gates.
class Router {
 public:
  /// Checks the table: names unique, patterns well formed, no two rows for the same listener,
  /// method and pattern, every route's authentication available (an Auth other than none with no
  /// authenticator is refused), none allowed only where the route says so. Throws
  /// std::invalid_argument naming the route.
  Router(std::vector<Route> routes, std::map<Auth, std::shared_ptr<Authenticator>> authenticators);

  /// Runs the gates for a request that came in on `listener`, then the handler.
  void dispatch(Listener listener, Request req, Reply reply) const;

  /// The table, in declaration order.
  const std::vector<Route>& routes() const { return routes_; }

  /// Matches `path` against `pattern`; the parameters on success.
  static std::optional<PathParams> match(const std::string& pattern, std::string_view path);

 private:
  std::vector<Route> routes_;
  std::map<Auth, std::shared_ptr<Authenticator>> auth_;
};

// --- template definition ---

template <typename T>
Handler parse_then(std::function<std::variant<T, wire::Problem>(const Call&)> parse,
                   std::function<void(Call, T, Reply)> handle) {
  return [parse = std::move(parse), handle = std::move(handle)](Call call, Reply reply) {
    auto parsed = parse(call);
    if (auto* p = std::get_if<wire::Problem>(&parsed)) {
      Response r;
      r.status = p->status;
      r.content_type = "application/problem+json";
      r.body = wire::to_json(*p);
      r.route = call.route;
      return reply(std::move(r));
    }
    handle(std::move(call), std::get<T>(std::move(parsed)), std::move(reply));
  };
}

}  // namespace oag::gateway
