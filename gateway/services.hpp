#pragma once
// What handlers and authenticators share: the store, metrics, the configuration in force, the
// store threads, and the client to peer gateways. No Asio here.

#include <functional>
#include <string>

#include "gateway/cert_issuer.hpp"
#include "gateway/http_types.hpp"
#include "gateway/metrics.hpp"
#include "gateway/peer_client.hpp"
#include "gateway/problems.hpp"
#include "gateway/runtime.hpp"
#include "storage/store.hpp"

namespace oag::gateway {

/// The shared parts of the daemon, owned by the server.
struct Services {
  storage::Backend& store;      ///< the store
  Metrics& metrics;             ///< counters
  Runtime& runtime;             ///< the configuration in force
  Post post;                    ///< store threads, by lane
  PeerClient* peers = nullptr;  ///< peer gateways (null when federation is off)
  /// Signs endpoint certificates (null without an issuing CA).
  std::shared_ptr<const CertIssuer> cert_issuer;
  /// Wall-clock Unix ms for protocol deadlines (a challenge's 30 s); tests may shift it.
  std::function<std::int64_t()> clock;
  /// Seals state the gateway hands out and reads back at whichever instance it returns to (an
  /// enrollment challenge): the operator's master key, which every instance has.
  std::shared_ptr<const storage::MasterKey> sealer;
  /// Called at named points of a handler (after a login committed: "login-committed"); empty
  /// in oagd. Crash tests kill the process there, between a commit and its answer.
  std::function<void(const char* point)> fault_point;

  /// Runs `fn` on a store thread of `lane`; an exception it throws answers 500 on `reply`.
  void offload(Lane lane, const Reply& reply, const std::string& route,
               std::function<void()> fn) const {
    post(lane, [reply, route, fn = std::move(fn)] { run_guarded(reply, route, fn); });
  }
};

/// `n` random bytes as lower-case hex (incident ids, challenge handles).
std::string random_hex(std::size_t n);
/// A random (version 4) UUID: request ids.
std::string new_uuid();
/// Wall-clock Unix ms.
std::int64_t wall_ms();
/// Monotonic ms.
std::int64_t steady_ms();
/// A whole file (certificates, anchors); throws std::runtime_error naming the path.
std::string read_text_file(const std::string& path);

}  // namespace oag::gateway
