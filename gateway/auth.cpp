#include "gateway/auth.hpp"

#include "gateway/trust.hpp"

namespace oag::gateway {

void EndpointAuthenticator::authenticate(
    const Request& req, const std::string& route,
    std::function<void(std::variant<Principal, Response>)> done) {
  const auto conn = req.conn;
  SubscriberPrincipal who{conn->cert_nai, conn->cert_serial};
  const std::int64_t now = steady_ms();
  const auto cache_ms =
      static_cast<std::int64_t>(svc_.runtime.get()->limits.authorization_cache_ms);
  const std::int64_t at = conn->authorized_at_ms.load(std::memory_order_relaxed);
  // A recent verdict for this connection: issuing never leaves the I/O thread but to enqueue.
  if (at != 0 && cache_ms > 0 && now - at < cache_ms) return done(Principal(std::move(who)));
  svc_.post(Lane::lookup,
            [this, conn, who = std::move(who), route, done = std::move(done), now]() mutable {
              try {
                const auto revoked = svc_.store.endpoints().is_revoked(who.cert_serial);
                if (!revoked.ok()) return done(store_problem(revoked.error(), route));
                if (revoked.value())
                  return done(problem({403, "certificate-revoked",
                                       "The client certificate is revoked", "certificate: revoked"},
                                      route));
                const auto sub = svc_.store.subscribers().get(who.nai);
                if (!sub.ok() && sub.error().code != storage::Errc::not_found)
                  return done(store_problem(sub.error(), route));
                if (!sub.ok() || sub.value().state != storage::State::active)
                  return done(problem({403, "requester-not-allowed",
                                       "The requester is not an active subscriber of this operator",
                                       "requester: " + who.nai},
                                      route));
                conn->authorized_at_ms.store(now, std::memory_order_relaxed);
                done(Principal(std::move(who)));
              } catch (const std::exception& e) {
                done(internal_error(e.what(), route));
              }
            });
}

void PeerAuthenticator::authenticate(const Request& req, const std::string& route,
                                     std::function<void(std::variant<Principal, Response>)> done) {
  const auto conn = req.conn;
  svc_.post(Lane::lookup, [this, conn, route, done = std::move(done)]() mutable {
    try {
      const auto all = svc_.store.agreements().list();
      if (!all.ok()) return done(store_problem(all.error(), route));
      const std::int64_t now = wall_ms();
      // The chain is the connection's: verified once per trust anchor, not per request.
      TrustCache own;
      TrustCache& trust = conn->trust_cache ? *conn->trust_cache : own;
      PeerPrincipal peer;
      bool trusted_somewhere = false;
      for (const auto& a : all.value()) {
        if (!trust.trusted(a, conn->peer_chain, false)) continue;
        trusted_somewhere = true;
        if (storage::in_force(a, now)) peer.agreements.push_back(a);
      }
      if (peer.agreements.empty())
        return done(
            problem({403, "no-agreement", "No active agreement covers this peer",
                     trusted_somewhere ? "certificate: no agreement that trusts it is in force"
                                       : "certificate: not trusted by any agreement"},
                    route));
      done(Principal(std::move(peer)));
    } catch (const std::exception& e) {
      done(internal_error(e.what(), route));
    }
  });
}

}  // namespace oag::gateway
