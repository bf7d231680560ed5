#include "gateway/metrics.hpp"

#include <sstream>
#include <tuple>

namespace oag::gateway {

void Metrics::request(const std::string& listener, const std::string& route, int status,
                      double seconds) {
  std::lock_guard lk(mu_);
  ++requests_[{listener, route, status}];
  auto& h = latency_[{listener, route}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.le[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::vectors(const std::string& kind, const std::string& role, unsigned n) {
  std::lock_guard lk(mu_);
  vectors_[{kind, role}] += n;
}

void Metrics::handshake_failure(const std::string& listener) {
  std::lock_guard lk(mu_);
  ++handshake_failures_[listener];
}

void Metrics::connection(const std::string& listener, int delta) {
  std::lock_guard lk(mu_);
  connections_[listener] += delta;
}

long Metrics::open_connections(const std::string& listener) const {
  std::lock_guard lk(mu_);
  const auto it = connections_.find(listener);
  return it == connections_.end() ? 0 : it->second;
}

std::string Metrics::render(const storage::StoreStats& store) const {
  std::lock_guard lk(mu_);
  std::ostringstream o;
  o << "# HELP oag_requests_total Requests answered, by listener, route and status.\n"
       "# TYPE oag_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    o << "oag_requests_total{listener=\"" << std::get<0>(k) << "\",route=\"" << std::get<1>(k)
      << "\",status=\"" << std::get<2>(k) << "\"} " << v << "\n";
  o << "# HELP oag_request_duration_seconds Time from a complete request to its response.\n"
       "# TYPE oag_request_duration_seconds histogram\n";
  for (const auto& [k, h] : latency_) {
    const std::string labels = "listener=\"" + k.first + "\",route=\"" + k.second + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      o << "oag_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i] << "\"} "
        << h.le[i] << "\n";
    o << "oag_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count << "\n";
    o << "oag_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    o << "oag_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  o << "# HELP oag_vectors_issued_total Vectors handed out, by kind and billing role.\n"
       "# TYPE oag_vectors_issued_total counter\n";
  for (const auto& [k, v] : vectors_)
    o << "oag_vectors_issued_total{kind=\"" << k.first << "\",role=\"" << k.second << "\"} " << v
      << "\n";
  o << "# HELP oag_tls_handshake_failures_total TLS handshakes that failed.\n"
       "# TYPE oag_tls_handshake_failures_total counter\n";
  for (const auto& [k, v] : handshake_failures_)
    o << "oag_tls_handshake_failures_total{listener=\"" << k << "\"} " << v << "\n";
  o << "# HELP oag_open_connections Connections open now.\n# TYPE oag_open_connections gauge\n";
  for (const auto& [k, v] : connections_)
    o << "oag_open_connections{listener=\"" << k << "\"} " << v << "\n";
  o << "# HELP oag_store_commit_batch_size Requests per store commit (group commit).\n"
       "# TYPE oag_store_commit_batch_size histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < store.batch_hist.size(); ++i) {
    cumulative += store.batch_hist[i];
    const bool last = i + 1 == store.batch_hist.size();
    o << "oag_store_commit_batch_size_bucket{le=\""
      << (last ? std::string("+Inf") : std::to_string(1u << i)) << "\"} " << cumulative << "\n";
  }
  o << "oag_store_commit_batch_size_sum " << store.requests << "\n";
  o << "oag_store_commit_batch_size_count " << store.commits << "\n";
  o << "# HELP oag_store_queue_depth Requests waiting for the store writer.\n# TYPE "
       "oag_store_queue_depth gauge\n"
    << "oag_store_queue_depth " << store.queued << "\n";
  return o.str();
}

}  // namespace oag::gateway
