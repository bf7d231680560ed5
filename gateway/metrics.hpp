#pragma once
// Counters and histograms for /metrics (Prometheus text exposition format 0.0.4).

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "gateway/http_types.hpp"
#include "storage/store.hpp"

namespace oag::gateway {

/// Everything oagd counts.
class Metrics {
 public:
  /// One answered request.
  void request(Listener listener, const std::string& route, int status, double seconds);
  /// Vectors handed out.
  void vectors(ident::Kind kind, storage::Role role, unsigned n);
  /// A TLS handshake that failed (no/bad client certificate, protocol errors).
  void handshake_failure(Listener listener);
  /// Connections opened/closed.
  void connection(Listener listener, int delta);
  /// A connection closed at once because `listener` held limits.max_connections already.
  void connection_refused(Listener listener);
  /// Connections open now on `listener`.
  long open_connections(Listener listener) const;
  /// A SIGHUP reload that succeeded (the new configuration is in force) or failed (the old one
  /// stays), at Unix time `unix_s`.
  void reload(bool ok, std::int64_t unix_s);
  /// A request whose handler missed limits.handler_timeout_ms.
  void handler_timeout(Listener listener);
  /// A call to a peer gateway under `agreement` ended with `outcome` ("ok" 2xx, "refused" 4xx,
  /// "error" 5xx, "connect", "timeout", "protocol") after `seconds`, its retry included.
  void peer_call(const std::string& agreement, const char* outcome, double seconds);
  /// The agreement's circuit breaker is open (or half open) now, or closed.
  void peer_breaker(const std::string& agreement, bool open);
  /// The exposition text, with the store's group-commit figures and this process's own
  /// (process_* from /proc/self, as Prometheus client libraries name them).
  std::string render(const storage::StoreStats& store) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> le{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<Listener, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<Listener, std::string>, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> vectors_;
  std::map<Listener, std::uint64_t> handshake_failures_;
  std::map<Listener, long> connections_;
  std::map<Listener, std::uint64_t> connections_refused_;
  std::map<Listener, std::uint64_t> handler_timeouts_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> peer_calls_;
  std::map<std::string, Histogram> peer_latency_;
  std::map<std::string, bool> peer_breakers_;
  std::uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
  std::int64_t last_reload_s_ = 0;
  bool last_reload_ok_ = true;
};

}  // namespace oag::gateway
