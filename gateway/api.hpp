#pragma once
// The HTTP API of the endpoint and ops listeners, without any I/O: each request passes a visible
// sequence of checks (authentication, content type, route, validation) before its handler, and
// every failure is one problem+json with a stable code. Blocking store reads are offloaded.

#include <map>
#include <mutex>
#include <string>

#include "gateway/config.hpp"
#include "gateway/http_types.hpp"
#include "gateway/metrics.hpp"
#include "gateway/peer_client.hpp"
#include "proto/wire/problem.hpp"
#include "storage/store.hpp"

namespace oag::gateway {

/// The handlers.
class Api {
 public:
  /// `offload` runs blocking store reads on store threads; `peers` reaches other AGs.
  Api(const Config& cfg, storage::Backend& store, Metrics& metrics, Offload offload,
      PeerClient* peers = nullptr);

  /// Sets the peer client (the server creates it after the Api).
  void set_peer_client(PeerClient* peers) { peers_ = peers; }
  /// A request on the federation listener (peer identified by its certificate chain).
  void federation(Request req, Reply reply);

  /// A request on the endpoint listener (identity from the client certificate).
  void endpoint(Request req, Reply reply);
  /// A request on the ops listener: /healthz, /readyz, /metrics.
  void ops(Request req, Reply reply);

  /// The response for a problem.
  static Response problem(const wire::Problem& p, std::string route);
  /// The response for a store error; a backend failure's detail goes to the log only.
  static Response store_problem(const storage::Error& e, std::string route);

 private:
  void issue(Request req, Reply reply);
  void result(Request req, std::string vector_id, Reply reply);
  void resync(Request req, Reply reply);
  void broker(Request req, std::string nai, std::string kind, unsigned count, Reply reply);
  // Token bucket per agreement: true when a request of `n` vectors may pass; else the seconds
  // until it could.
  bool take_tokens(const storage::Agreement& a, unsigned n, double& retry_after_s);
  // Circuit breaker per agreement (the broker side).
  bool breaker_allows(const std::string& agreement);
  void breaker_record(const std::string& agreement, bool failure);

  struct Bucket {
    double tokens = 0;
    std::int64_t last_us = 0;
  };
  struct Breaker {
    unsigned failures = 0;
    std::int64_t open_until_ms = 0;
    bool probing = false;
  };
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
  std::map<std::string, Breaker> breakers_;

  const Config& cfg_;
  storage::Backend& store_;
  Metrics& metrics_;
  Offload offload_;
  PeerClient* peers_;
};

/// The problem for a store error (not found, not allowed, backend failure kept apart).
wire::Problem problem_of(const storage::Error& e);

}  // namespace oag::gateway
