#pragma once
// The request and response the gates and handlers see: plain structs, so that routing,
// authentication and handlers compile without Beast (which stays in server.cpp).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oag::gateway {

class TrustCache;

/// The four listeners of DESIGN §3, each its own trust.
enum class Listener { endpoint, federation, visitor, ops };

/// "endpoint", "federation", "visitor" or "ops" (metric labels, logs).
const char* to_string(Listener l) noexcept;

/// A peer certificate chain as DER (leaf first).
using CertChain = std::vector<std::string>;

/// What one TLS connection established once, shared by its requests.
struct Connection {
  Listener listener = Listener::ops;  ///< where it came in
  std::string remote_address;         ///< the client's IP address
  std::string cert_nai;               ///< endpoint: the NAI its client certificate names
  std::string cert_serial;            ///< endpoint: lower-case hex serial of that certificate
  CertChain peer_chain;               ///< federation: the peer's chain, DER, leaf first
  /// Endpoint: when (steady ms) its identity was last authorised; 0 = never. Reused for
  /// limits.authorization_cache_ms of the configuration in force at each request.
  std::atomic<std::int64_t> authorized_at_ms{0};
  /// Federation: its chain's verdicts against agreements' trust anchors.
  std::shared_ptr<TrustCache> trust_cache;
};

/// A request after the transport's checks (TLS, header and body size).
struct Request {
  std::string method;                ///< "POST", "GET", ...
  std::string target;                ///< path (and query)
  std::string content_type;          ///< Content-Type header
  std::string authorization;         ///< Authorization header (Digest, OAG-Session)
  std::string body;                  ///< body (within the listener's limit)
  std::shared_ptr<Connection> conn;  ///< its connection (the router makes one if none is given)

  /// The path without the query.
  std::string_view path() const { return std::string_view(target).substr(0, target.find('?')); }
};

/// A response.
struct Response {
  int status = 200;                                          ///< HTTP status
  std::string content_type;                                  ///< empty for 204
  std::string body;                                          ///< body
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  std::string route = "other";                               ///< route label for metrics and logs
  unsigned vectors = 0;                                      ///< vectors in the answer (access log)
  std::string internal;                  ///< why it failed, for the log only (never sent)
  const char* internal_event = nullptr;  ///< the event id `internal` is logged under
  bool close = false;                    ///< close the connection after this response
};

/// Completion of a request: may be called from any thread, and only its first call counts (a
/// handler that answers after its deadline, or throws after answering, is ignored).
class Reply {
 public:
  Reply() = default;
  /// `sink` receives the first response.
  explicit Reply(std::function<void(Response)> sink)
      : s_(std::make_shared<State>(std::move(sink))) {}
  /// Delivers `r` unless a response was delivered already.
  void operator()(Response r) const {
    if (!s_ || s_->done.exchange(true)) return;
    auto sink = std::move(s_->sink);
    sink(std::move(r));
  }
  /// True once a response was delivered.
  bool done() const { return !s_ || s_->done.load(); }

 private:
  struct State {
    explicit State(std::function<void(Response)> f) : sink(std::move(f)) {}
    std::atomic<bool> done{false};
    std::function<void(Response)> sink;
  };
  std::shared_ptr<State> s_;
};

/// Which store threads run a blocking task: lookups (authorisation, agreements) never wait
/// behind writes (a result report, a resync), which have threads of their own.
enum class Lane { lookup, write };

/// Runs a blocking function on a store thread of `lane` (never on an I/O thread).
using Post = std::function<void(Lane, std::function<void()>)>;

}  // namespace oag::gateway
