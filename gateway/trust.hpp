#pragma once
// Which agreement a peer's certificate satisfies: chained to the agreement's CA file, or its
// SubjectPublicKeyInfo matching the agreement's SHA-256 pin.

#include <openssl/types.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/http_types.hpp"
#include "storage/types.hpp"

namespace oag::gateway {

/// Verifying a chain caches each CA certificate's decoded extensions (key identifiers, purposes)
/// inside the certificate on first use, and OpenSSL 3.0 reads that cache without a lock: two
/// threads verifying against a fresh store race (ThreadSanitizer saw it). This fills the cache
/// of every certificate in `store`; call it before the store is shared between threads.
void prime_ca_certificates(X509_STORE* store);

/// True when `chain` satisfies the agreement's trust (CA file or SPKI pin); `as_server` checks
/// the certificate for TLS server use (the peer we call), else for client use (a peer calling).
bool peer_trusted(const storage::Agreement& a, const CertChain& chain, bool as_server);

/// One connection's peer_trusted verdicts. Its chain cannot change, so a verdict holds for as
/// long as the agreement's trust anchor does: the key is the agreement id, its CA file and pin,
/// and the CA file's modification time (a replaced CA file is verified again). The agreement's
/// state and validity are not cached: callers check them on every request.
class TrustCache {
 public:
  /// peer_trusted(a, chain, as_server), verified once per trust anchor.
  bool trusted(const storage::Agreement& a, const CertChain& chain, bool as_server);

 private:
  std::mutex mu_;
  std::map<std::string, bool> verdicts_;
};

}  // namespace oag::gateway
