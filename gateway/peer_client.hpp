#pragma once
// Calls to peer AGs' federation listeners, seen from the handlers: no Asio here; the pooled
// keep-alive mTLS client lives in server.cpp.

#include <functional>
#include <string>

#include "storage/types.hpp"

namespace oag::gateway {

/// What came back from a peer.
struct PeerReply {
  enum class Failure { none, connect, timeout, protocol };
  Failure failure = Failure::none;  ///< transport failure (then status is 0)
  int status = 0;                   ///< HTTP status
  std::string body;                 ///< response body
  std::string retry_after;          ///< Retry-After header, if any
  std::string error;                ///< transport error text, for the log
};

/// POSTs JSON to a peer named by an agreement.
class PeerClient {
 public:
  virtual ~PeerClient() = default;
  /// POSTs `body` to `agreement.peer_url` + `path`; on a connection lost before an answer it
  /// retries once on a fresh connection with the same body. `done` may run on any thread.
  virtual void post(const storage::Agreement& agreement, const std::string& path, std::string body,
                    std::function<void(PeerReply)> done) = 0;
  /// GETs `agreement.peer_url` + `path` (path and query), with the same retry as post.
  virtual void get(const storage::Agreement& agreement, const std::string& path,
                   std::function<void(PeerReply)> done) = 0;
};

}  // namespace oag::gateway
