#include "gateway/roaming/session_auth.hpp"

#include "proto/login/keys.hpp"
#include "proto/login/messages.hpp"

namespace oag::gateway::roaming {

namespace {

constexpr std::int64_t kWindowMs = login::kMaxSkewS * 1000;
constexpr std::int64_t kCacheMs = 60'000;

Response refused(std::string detail, const std::string& route) {
  auto r =
      problem({401, "unauthorized", "A visitor session is required", std::move(detail)}, route);
  r.headers.emplace_back("WWW-Authenticate", "OAG-Session");
  return r;
}

}  // namespace

std::variant<Principal, Response> SessionAuthenticator::check(const Request& req,
                                                              const std::string& route,
                                                              const storage::VisitorSession& s,
                                                              std::int64_t ts,
                                                              const aka::Bytes<32>& mac) {
  const std::int64_t now = svc_.clock();
  if (now >= s.expires_ms) return refused("authorization: the session has expired", route);
  if (ts > now + kWindowMs || ts < now - kWindowMs)
    return refused("authorization.ts: more than 300 s from this gateway's clock", route);
  const auto want = login::request_mac(s.ks2, req.method, req.path(), ts, req.body);
  if (!login::equal(want, mac)) return refused("authorization.mac: does not verify", route);
  std::lock_guard lk(mu_);
  auto& c = cache_[s.id];
  if (c.session.id.empty()) {
    c.session = s;
    c.loaded_ms = now;
  }
  std::erase_if(c.seen_ts, [now](std::int64_t t) { return t < now - kWindowMs; });
  if (!c.seen_ts.insert(ts).second) return refused("authorization.ts: used before", route);
  return VisitorPrincipal{s.id, s.nai, s.agreement, s.certificate};
}

void SessionAuthenticator::authenticate(
    const Request& req, const std::string& route,
    std::function<void(std::variant<Principal, Response>)> done) {
  const auto auth = login::parse_session_auth(req.authorization);
  if (!auth)
    return done(refused("authorization: expected OAG-Session id=..., ts=..., mac=...", route));
  {
    std::unique_lock lk(mu_);
    const auto it = cache_.find(auth->id);
    if (it != cache_.end() && svc_.clock() - it->second.loaded_ms < kCacheMs) {
      const auto s = it->second.session;
      lk.unlock();
      return done(check(req, route, s, auth->ts_ms, auth->mac));
    }
  }
  Reply reply([done](Response r) { done(std::move(r)); });
  svc_.offload(Lane::lookup, reply, route, [this, req, route, a = *auth, done] {
    auto s = svc_.store.logins().session(a.id);
    if (!s.ok() && s.error().code == storage::Errc::not_found)
      return done(refused("authorization.id: no such session", route));
    if (!s.ok()) return done(store_problem(s.error(), route));
    {
      std::lock_guard lk(mu_);
      if (cache_.size() >= kMaxCached) {
        const std::int64_t now = svc_.clock();
        std::erase_if(cache_,
                      [now](const auto& e) { return now - e.second.loaded_ms >= kCacheMs; });
      }
      if (cache_.size() < kMaxCached) {
        auto& c = cache_[a.id];
        c.session = s.value();
        c.loaded_ms = svc_.clock();
      }
    }
    done(check(req, route, s.value(), a.ts_ms, a.mac));
  });
}

}  // namespace oag::gateway::roaming
