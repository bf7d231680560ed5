#pragma once
// Auth::visitor_session (DESIGN §7): `Authorization: OAG-Session id=<session>, ts=<unix ms>,
// mac=<hex HMAC(Ks2, len‖method ‖ len‖path ‖ len‖ts ‖ SHA-256(body))>`, within ±300 s, no ts
// twice per session. The session (Ks2 sealed in the store) is read on a lookup thread and kept
// here for a minute, so that a visitor's requests do not each cost a store read.

#include <map>
#include <mutex>
#include <set>

#include "gateway/router.hpp"
#include "gateway/services.hpp"

namespace oag::gateway::roaming {

/// Authenticates visitor requests by their session MAC.
class SessionAuthenticator final : public Authenticator {
 public:
  /// Most sessions (and their recent timestamps) kept in memory.
  static constexpr std::size_t kMaxCached = 100'000;
  /// Uses `svc`'s store and clock.
  explicit SessionAuthenticator(const Services& svc) : svc_(svc) {}
  void authenticate(const Request& req, const std::string& route,
                    std::function<void(std::variant<Principal, Response>)> done) override;

 private:
  struct Cached {
    storage::VisitorSession session;
    std::int64_t loaded_ms = 0;
    std::set<std::int64_t> seen_ts;  // timestamps used within the window
  };
  // Checks the MAC and the timestamp against a session; records the timestamp.
  std::variant<Principal, Response> check(const Request& req, const std::string& route,
                                          const storage::VisitorSession& s, std::int64_t ts,
                                          const aka::Bytes<32>& mac);

  const Services& svc_;
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
};

}  // namespace oag::gateway::roaming
