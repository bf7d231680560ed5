#pragma once
// The request and response the handlers see: plain structs, so that handlers, routing and checks
// compile without Beast (which stays in server.cpp).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace oag::gateway {

class TrustCache;

/// A request after the transport's checks (TLS, header and body size).
struct Request {
  std::string method;        ///< "POST", "GET", ...
  std::string target;        ///< path (and query)
  std::string content_type;  ///< Content-Type header
  std::string body;          ///< body (already within limits)
  std::string identity;      ///< NAI from the client certificate (empty on the ops listener)
  std::string cert_serial;   ///< lower-case hex serial of the client certificate
  /// Federation listener: the peer's certificate chain, DER, leaf first.
  std::vector<std::string> peer_chain;
  /// Per connection: until when (steady ms) its identity's last authorisation holds.
  std::shared_ptr<std::atomic<std::int64_t>> authorized_until;
  /// Federation listener, per connection: its chain's verdicts against agreements' trust.
  std::shared_ptr<TrustCache> trust_cache;
};

/// A response.
struct Response {
  int status = 200;                                          ///< HTTP status
  std::string content_type;                                  ///< empty for 204
  std::string body;                                          ///< body
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  std::string route = "other";                               ///< route label for metrics and logs
  unsigned vectors = 0;                                      ///< vectors in the answer (access log)
  std::string internal;                                      ///< why it failed, for the log only
};

/// Completion of an asynchronous handler; may be called from any thread.
using Reply = std::function<void(Response)>;

/// Runs a blocking function on a store thread (never on an I/O thread).
using Offload = std::function<void(std::function<void()>)>;

}  // namespace oag::gateway
