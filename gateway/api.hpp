#pragma once
// The HTTP API of the endpoint and ops listeners, without any I/O: each request passes a visible
// sequence of checks (authentication, content type, route, validation) before its handler, and
// every failure is one problem+json with a stable code. Blocking store reads are offloaded.

#include <string>

#include "gateway/config.hpp"
#include "gateway/http_types.hpp"
#include "gateway/metrics.hpp"
#include "proto/wire/problem.hpp"
#include "storage/store.hpp"

namespace oag::gateway {

/// The handlers.
class Api {
 public:
  /// `offload` runs blocking store reads on store threads.
  Api(const Config& cfg, storage::Backend& store, Metrics& metrics, Offload offload);

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

  const Config& cfg_;
  storage::Backend& store_;
  Metrics& metrics_;
  Offload offload_;
};

/// The problem for a store error (not found, not allowed, backend failure kept apart).
wire::Problem problem_of(const storage::Error& e);

}  // namespace oag::gateway
