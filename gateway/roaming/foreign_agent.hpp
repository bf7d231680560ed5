#pragma once
// The visitor side of DESIGN §7. POST /v1/roaming/login (visitor listener): a user of another
// operator logs in here (M2); we relay what we cannot open to her home agent under our
// agreement of kind `login` (M3), keep the session the home agent gives us (Ks2, sealed) with a
// `bought` record, and hand her the ticket sealed under Ks2 (M5). A user of ours is decided here
// by the home agent itself. POST /v1/federation/roaming/login (federation listener): the home
// agent's door for other operators' foreign agents.

#include "gateway/roaming/home_agent.hpp"
#include "gateway/router.hpp"
#include "gateway/services.hpp"
#include "gateway/token_buckets.hpp"

namespace oag::gateway::roaming {

/// Parses M2 (federation false) or M3; the CSR must decode (its signature is the HA's to check).
std::variant<LoginCall, wire::Problem> parse_login(const Call& call, bool federation);

/// The roaming-login routes.
class RoamingApi {
 public:
  /// Uses `svc` and its home agent `ha`.
  RoamingApi(const Services& svc, HomeAgent& ha) : svc_(svc), ha_(ha) {}
  /// POST /v1/roaming/login (visitor listener).
  void visitor_login(Call call, LoginCall m, Reply reply);
  /// POST /v1/federation/roaming/login (federation listener).
  void federation_login(Call call, LoginCall m, Reply reply);
  /// POST /v1/roaming/renew (visitor listener): relayed to the user's home agent, which alone
  /// can check its MAC (Ks3); at home, answered here.
  void visitor_renew(Call call, Reply reply);
  /// POST /v1/federation/roaming/renew: {"request": the user's body, "authorization": her
  /// OAG-Session header}, from any FA with an agreement of kind login.
  void federation_renew(Call call, Reply reply);

 private:
  // The home agent's M4, turned into M5 once the session and the bought record committed.
  void settle(const storage::Agreement& a, const login::LoginRequest& m, PeerReply pr,
              const std::string& route, Reply reply);

  const Services& svc_;
  HomeAgent& ha_;
  TokenBuckets per_address_;
  TokenBuckets per_agreement_;
};

}  // namespace oag::gateway::roaming
