// SIM enrollments per second against a real oagd: each thread runs client::Enroll in a loop on
// its own keep-alive connection (P-256 key and CSR, challenge, SIM answer, certificate, rspauth)
// and the figures are printed: enrollments/s and the time one takes (p50, p99).
//   bench_enroll PORT CA SIM_PROFILE NAI SECONDS THREADS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/enroll.hpp"

using namespace oag;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: bench_enroll PORT CA SIM_PROFILE NAI SECONDS THREADS\n");
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const std::string ca = argv[2], profile = argv[3], nai = argv[4];
  const double seconds = std::atof(argv[5]);
  const int threads = std::atoi(argv[6]);
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::atomic<long> failures{0};
  std::string first_error;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      // A copy of the SIM per thread (its own state file): each sees an increasing part of the
      // subscriber's sequence numbers.
      const auto copy = profile + ".bench" + std::to_string(t) + ".json";
      std::filesystem::copy_file(profile, copy, std::filesystem::copy_options::overwrite_existing);
      auto sim = client::SoftSim::load(copy);
      client::HttpsOptions o;
      o.port = port;
      o.ca_file = ca;
      client::HttpsClient https(o);
      client::HttpsTransport transport(https);
      std::vector<double> mine;
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        client::Enroll e(transport, sim, nai);
        const auto got = e.run();
        if (const auto* err = std::get_if<client::Error>(&got)) {
          std::lock_guard lk(mu);
          if (failures++ == 0) first_error = err->to_string();
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
      std::lock_guard lk(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  for (auto& th : pool) th.join();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  const auto pct = [&](double p) {
    return latencies_ms.empty()
               ? 0.0
               : latencies_ms[std::min(latencies_ms.size() - 1,
                                       static_cast<std::size_t>(p * latencies_ms.size()))];
  };
  std::printf(
      "{\"enrollments\":%zu,\"seconds\":%.1f,\"per_s\":%.0f,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"failures\":%ld,\"threads\":%d}\n",
      latencies_ms.size(), seconds, latencies_ms.size() / seconds, pct(0.5), pct(0.99),
      failures.load(), threads);
  if (failures > 0) std::fprintf(stderr, "first failure: %s\n", first_error.c_str());
  return failures > 0 || latencies_ms.empty() ? 1 : 0;
}
