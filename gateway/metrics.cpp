#include "gateway/metrics.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <sstream>
#include <tuple>
#include <vector>

namespace oag::gateway {

void Metrics::request(Listener listener, const std::string& route, int status, double seconds) {
  std::lock_guard lk(mu_);
  ++requests_[{listener, route, status}];
  auto& h = latency_[{listener, route}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.le[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::vectors(ident::Kind kind, storage::Role role, unsigned n) {
  std::lock_guard lk(mu_);
  vectors_[{std::string(ident::to_string(kind)), storage::to_string(role)}] += n;
}

void Metrics::handshake_failure(Listener listener) {
  std::lock_guard lk(mu_);
  ++handshake_failures_[listener];
}

void Metrics::connection(Listener listener, int delta) {
  std::lock_guard lk(mu_);
  connections_[listener] += delta;
}

void Metrics::connection_refused(Listener listener) {
  std::lock_guard lk(mu_);
  ++connections_refused_[listener];
}

long Metrics::open_connections(Listener listener) const {
  std::lock_guard lk(mu_);
  const auto it = connections_.find(listener);
  return it == connections_.end() ? 0 : it->second;
}

void Metrics::reload(bool ok, std::int64_t unix_s) {
  std::lock_guard lk(mu_);
  ++(ok ? reloads_ok_ : reloads_failed_);
  last_reload_s_ = unix_s;
  last_reload_ok_ = ok;
}

void Metrics::handler_timeout(Listener listener) {
  std::lock_guard lk(mu_);
  ++handler_timeouts_[listener];
}

void Metrics::peer_call(const std::string& agreement, const char* outcome, double seconds) {
  std::lock_guard lk(mu_);
  ++peer_calls_[{agreement, outcome}];
  auto& h = peer_latency_[agreement];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.le[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::peer_breaker(const std::string& agreement, bool open) {
  std::lock_guard lk(mu_);
  peer_breakers_[agreement] = open;
}

namespace {

// A label value as the exposition format wants it: backslash, quote and newline escaped.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// This process from /proc/self: CPU, memory, descriptors, start time.
void process_metrics(std::ostringstream& o) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces, so from the last ')'): state is 3.
  const auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream f(text.substr(close + 2));
    std::vector<std::string> v((std::istream_iterator<std::string>(f)),
                               std::istream_iterator<std::string>());
    if (v.size() > 21) {
      const double cpu = (std::stod(v[11]) + std::stod(v[12])) / ticks;  // utime + stime
      double boot = 0;
      std::ifstream st("/proc/stat");
      for (std::string line; std::getline(st, line);)
        if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
      o << "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n"
           "# TYPE process_cpu_seconds_total counter\n"
        << "process_cpu_seconds_total " << cpu << "\n"
        << "# HELP process_start_time_seconds Start time since the Unix epoch, in seconds.\n"
           "# TYPE process_start_time_seconds gauge\n"
        << "process_start_time_seconds " << std::fixed << std::setprecision(2)
        << boot + std::stod(v[19]) / ticks << std::defaultfloat << "\n"
        << "# HELP process_virtual_memory_bytes Virtual memory size, in bytes.\n"
           "# TYPE process_virtual_memory_bytes gauge\n"
        << "process_virtual_memory_bytes " << v[20] << "\n"
        << "# HELP process_resident_memory_bytes Resident memory size, in bytes.\n"
           "# TYPE process_resident_memory_bytes gauge\n"
        << "process_resident_memory_bytes " << static_cast<std::uint64_t>(std::stod(v[21]) * page)
        << "\n";
    }
  }
  std::size_t fds = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++fds;
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  o << "# HELP process_open_fds Open file descriptors.\n# TYPE process_open_fds gauge\n"
    << "process_open_fds " << fds << "\n"
    << "# HELP process_max_fds The file-descriptor limit (soft).\n# TYPE process_max_fds gauge\n"
    << "process_max_fds " << rl.rlim_cur << "\n";
}

}  // namespace

std::string Metrics::render(const storage::StoreStats& store) const {
  std::ostringstream o;
  o << "# HELP oag_build_info The oagd build (always 1).\n# TYPE oag_build_info gauge\n"
    << "oag_build_info{version=\"" << OAG_VERSION << "\"} 1\n";
  // Before the lock: reading /proc (one entry per open descriptor) must not hold up the I/O
  // threads that count their requests under it.
  process_metrics(o);
  std::lock_guard lk(mu_);
  o << "# HELP oag_requests_total Requests answered, by listener, route and status.\n"
       "# TYPE oag_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    o << "oag_requests_total{listener=\"" << to_string(std::get<0>(k)) << "\",route=\""
      << std::get<1>(k) << "\",status=\"" << std::get<2>(k) << "\"} " << v << "\n";
  o << "# HELP oag_request_duration_seconds Time from a complete request to its response.\n"
       "# TYPE oag_request_duration_seconds histogram\n";
  for (const auto& [k, h] : latency_) {
    const std::string labels =
        std::string("listener=\"") + to_string(k.first) + "\",route=\"" + k.second + "\"";
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
    o << "oag_tls_handshake_failures_total{listener=\"" << to_string(k) << "\"} " << v << "\n";
  o << "# HELP oag_open_connections Connections open now.\n# TYPE oag_open_connections gauge\n";
  for (const auto& [k, v] : connections_)
    o << "oag_open_connections{listener=\"" << to_string(k) << "\"} " << v << "\n";
  o << "# HELP oag_connections_refused_total Connections closed at once: the listener held "
       "limits.max_connections.\n"
       "# TYPE oag_connections_refused_total counter\n";
  for (const auto& [k, v] : connections_refused_)
    o << "oag_connections_refused_total{listener=\"" << to_string(k) << "\"} " << v << "\n";
  o << "# HELP oag_handler_timeouts_total Requests answered 503 at limits.handler_timeout_ms.\n"
       "# TYPE oag_handler_timeouts_total counter\n";
  for (const auto& [k, v] : handler_timeouts_)
    o << "oag_handler_timeouts_total{listener=\"" << to_string(k) << "\"} " << v << "\n";
  o << "# HELP oag_config_reloads_total SIGHUP reloads, by result.\n"
       "# TYPE oag_config_reloads_total counter\n"
    << "oag_config_reloads_total{result=\"success\"} " << reloads_ok_ << "\n"
    << "oag_config_reloads_total{result=\"failure\"} " << reloads_failed_ << "\n"
    << "# HELP oag_config_last_reload_successful Whether the last reload succeeded (1 before "
       "any).\n"
       "# TYPE oag_config_last_reload_successful gauge\n"
    << "oag_config_last_reload_successful " << (last_reload_ok_ ? 1 : 0) << "\n"
    << "# HELP oag_config_last_reload_timestamp_seconds When the last reload was tried (0: "
       "never).\n"
       "# TYPE oag_config_last_reload_timestamp_seconds gauge\n"
    << "oag_config_last_reload_timestamp_seconds " << last_reload_s_ << "\n";
  o << "# HELP oag_peer_requests_total Calls to peer gateways, by agreement and outcome.\n"
       "# TYPE oag_peer_requests_total counter\n";
  for (const auto& [k, v] : peer_calls_)
    o << "oag_peer_requests_total{agreement=\"" << label(k.first) << "\",outcome=\"" << k.second
      << "\"} " << v << "\n";
  o << "# HELP oag_peer_request_duration_seconds Time of a call to a peer gateway (its retry "
       "included).\n"
       "# TYPE oag_peer_request_duration_seconds histogram\n";
  for (const auto& [agreement, h] : peer_latency_) {
    const std::string labels = "agreement=\"" + label(agreement) + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      o << "oag_peer_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i]
        << "\"} " << h.le[i] << "\n";
    o << "oag_peer_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
      << "\n";
    o << "oag_peer_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    o << "oag_peer_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  o << "# HELP oag_peer_breaker_open Whether the agreement's circuit breaker is open (or half "
       "open).\n"
       "# TYPE oag_peer_breaker_open gauge\n";
  for (const auto& [k, open] : peer_breakers_)
    o << "oag_peer_breaker_open{agreement=\"" << label(k) << "\"} " << (open ? 1 : 0) << "\n";
  o << "# HELP oag_store_commit_duration_seconds From BEGIN to a durable COMMIT of one batch.\n"
       "# TYPE oag_store_commit_duration_seconds histogram\n";
  std::uint64_t below = 0;
  for (std::size_t i = 0; i < store.commit_bounds.size(); ++i) {
    below += store.commit_hist[i];
    o << "oag_store_commit_duration_seconds_bucket{le=\"" << store.commit_bounds[i] << "\"} "
      << below << "\n";
  }
  below += store.commit_hist.back();
  o << "oag_store_commit_duration_seconds_bucket{le=\"+Inf\"} " << below << "\n"
    << "oag_store_commit_duration_seconds_sum " << store.commit_seconds << "\n"
    << "oag_store_commit_duration_seconds_count " << below << "\n";
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
