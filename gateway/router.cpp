#include "gateway/router.hpp"

#include <set>
#include <stdexcept>

#include "gateway/problems.hpp"
#include "proto/wire/certificates.hpp"

namespace oag::gateway {

const char* to_string(Listener l) noexcept {
  switch (l) {
    case Listener::endpoint:
      return "endpoint";
    case Listener::federation:
      return "federation";
    case Listener::visitor:
      return "visitor";
    case Listener::ops:
      return "ops";
  }
  return "?";
}

std::optional<std::string> query_param(const Request& req, std::string_view name) {
  const auto q = req.target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string_view rest = std::string_view(req.target).substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      std::string out;
      if (eq == std::string_view::npos || !wire::percent_decode(pair.substr(eq + 1), out))
        return std::nullopt;
      return out;
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return std::nullopt;
}

const char* to_string(Auth a) noexcept {
  switch (a) {
    case Auth::endpoint_subscriber:
      return "endpoint-subscriber";
    case Auth::federation_peer:
      return "federation-peer";
    case Auth::visitor_session:
      return "visitor-session";
    case Auth::none:
      return "none";
  }
  return "?";
}

namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  std::size_t start = 1;
  for (;;) {
    const auto slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? path.npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

bool is_param(std::string_view seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

// The media type of a Content-Type value, lower case, without parameters.
std::string media_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.erase(0, 1);
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

// Which listener may declare which authentication: a route cannot ask for a certificate on a
// listener that requests none, nor serve the ops listener's loopback trust elsewhere.
bool allowed_on(Listener l, Auth a) {
  switch (l) {
    case Listener::endpoint:
      return a == Auth::endpoint_subscriber;
    case Listener::federation:
      return a == Auth::federation_peer;
    case Listener::visitor:
      return a == Auth::visitor_session || a == Auth::none;
    case Listener::ops:
      return a == Auth::none;
  }
  return false;
}

Principal anonymous_for(Listener l) {
  if (l == Listener::ops) return OpsPrincipal{};
  return Anonymous{};
}

}  // namespace

std::optional<PathParams> Router::match(const std::string& pattern, std::string_view path) {
  const auto want = segments(pattern);
  const auto got = segments(path);
  if (want.empty() || want.size() != got.size()) return std::nullopt;
  PathParams params;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (is_param(want[i])) {
      if (got[i].empty()) return std::nullopt;
      params.emplace(std::string(want[i].substr(1, want[i].size() - 2)), std::string(got[i]));
    } else if (want[i] != got[i]) {
      return std::nullopt;
    }
  }
  return params;
}

Router::Router(std::vector<Route> routes,
               std::map<Auth, std::shared_ptr<Authenticator>> authenticators)
    : routes_(std::move(routes)), auth_(std::move(authenticators)) {
  std::set<std::string> names;
  std::set<std::tuple<Listener, std::string, std::string>> rows;
  for (const auto& r : routes_) {
    const std::string who = "route " + r.name + ": ";
    if (r.name.empty() || !names.insert(r.name).second)
      throw std::invalid_argument(who + "name empty or not unique");
    const auto segs = segments(r.pattern);
    if (segs.empty()) throw std::invalid_argument(who + "pattern must start with '/'");
    for (const auto s : segs)
      if (s.empty() || (!is_param(s) && s.find_first_of("{}") != std::string_view::npos))
        throw std::invalid_argument(who + "malformed pattern " + r.pattern);
    if (!rows.emplace(r.listener, r.method, r.pattern).second)
      throw std::invalid_argument(who + "another route has the same listener, method and path");
    if (!allowed_on(r.listener, r.auth))
      throw std::invalid_argument(who + "authentication " + to_string(r.auth) +
                                  " is not available on the " + to_string(r.listener) +
                                  " listener");
    if (r.auth != Auth::none && !auth_.count(r.auth))
      throw std::invalid_argument(who + "no authenticator for " + to_string(r.auth));
    if (!r.handler) throw std::invalid_argument(who + "no handler");
    if (r.method.empty()) throw std::invalid_argument(who + "no method");
  }
}

void Router::dispatch(Listener listener, Request req, Reply reply) const {
  if (!req.conn) {
    req.conn = std::make_shared<Connection>();
    req.conn->listener = listener;
  }
  // Route: known path on this listener.
  const std::string path(req.path());
  std::vector<const Route*> on_path;
  PathParams params;
  for (const auto& r : routes_) {
    if (r.listener != listener) continue;
    if (auto p = match(r.pattern, path)) {
      if (on_path.empty()) params = std::move(*p);
      on_path.push_back(&r);
    }
  }
  if (on_path.empty())
    return reply(problem({404, "not-found", "No such resource", "path: " + path}, "other"));
  // Method.
  const Route* route = nullptr;
  for (const Route* r : on_path)
    if (r->method == req.method) {
      route = r;
      params = *match(r->pattern, path);
      break;
    }
  if (route == nullptr) {
    std::string allow;
    for (const Route* r : on_path) allow += (allow.empty() ? "" : ", ") + r->method;
    auto r = problem({405, "method-not-allowed", "Method not allowed", "method: use " + allow},
                     on_path.front()->name);
    r.headers.emplace_back("Allow", allow);
    return reply(std::move(r));
  }
  const std::string name = route->name;
  // The remaining gates run once the caller is known.
  auto rest = [route, name, params = std::move(params), reply](
                  Request rq, std::variant<Principal, Response> who) mutable {
    run_guarded(reply, name, [&] {
      if (auto* refusal = std::get_if<Response>(&who)) return reply(std::move(*refusal));
      // Content type, before anything reads the body.
      if (!route->content_types.empty()) {
        const std::string got = media_type(rq.content_type);
        bool ok = false;
        for (const auto& t : route->content_types) ok |= got == t;
        if (!ok) {
          std::string want;
          for (const auto& t : route->content_types) want += (want.empty() ? "" : " or ") + t;
          return reply(problem({415, "unsupported-media-type", "Expected " + want,
                                "content-type: got \"" + rq.content_type + "\""},
                               name));
        }
      }
      // Body size (the route's own limit, within the listener's).
      if (rq.body.size() > route->body_limit)
        return reply(problem({413, "body-too-large", "The body is too large",
                              "body: at most " + std::to_string(route->body_limit) + " bytes"},
                             name));
      // Parse, validate and handle.
      route->handler(
          Call{std::move(rq), std::get<Principal>(std::move(who)), std::move(params), name}, reply);
    });
  };
  run_guarded(reply, name, [&] {
    if (route->auth == Auth::none) return rest(std::move(req), anonymous_for(listener));
    auto shared = std::make_shared<Request>(std::move(req));
    auth_.at(route->auth)
        ->authenticate(
            *shared, name,
            [shared, rest = std::move(rest)](std::variant<Principal, Response> who) mutable {
              rest(std::move(*shared), std::move(who));
            });
  });
}

}  // namespace oag::gateway
