#pragma once
// Counters and histograms for /metrics (Prometheus text exposition format 0.0.4).

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "storage/store.hpp"

namespace oag::gateway {

/// Everything oagd counts.
class Metrics {
 public:
  /// One answered request.
  void request(const std::string& listener, const std::string& route, int status, double seconds);
  /// Vectors handed out.
  void vectors(const std::string& kind, const std::string& role, unsigned n);
  /// A TLS handshake that failed (no/bad client certificate, protocol errors).
  void handshake_failure(const std::string& listener);
  /// Connections opened/closed.
  void connection(const std::string& listener, int delta);
  /// Connections open now on `listener`.
  long open_connections(const std::string& listener) const;
  /// The exposition text, with the store's group-commit figures.
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
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> vectors_;
  std::map<std::string, std::uint64_t> handshake_failures_;
  std::map<std::string, long> connections_;
};

}  // namespace oag::gateway
