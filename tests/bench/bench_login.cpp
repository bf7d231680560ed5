// Roaming logins against real gateways (DESIGN §7): each thread runs client::RoamingLogin in a
// loop on its own keep-alive connection, with pwd_key computed once (the client's scrypt is not
// what is measured), and prints logins/s and the time one login takes (p50, p99). `vectors`
// mode fetches one aka vector per request from an endpoint listener instead: the local baseline
// a roaming login is compared with.
//   bench_login login PORT PROFILE PASSWORD_FILE SECONDS THREADS
//   bench_login vectors PORT CA CERT KEY NAI SECONDS THREADS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/gateway.hpp"
#include "client/roaming_login.hpp"

using namespace oag;
using Clock = std::chrono::steady_clock;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `one` (true: it worked) on `threads` threads for `seconds`; prints the figures.
int run(const char* what, double seconds, int threads,
        const std::function<std::function<bool(std::string&)>()>& make) {
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::atomic<long> failures{0};
  std::string first_error;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      auto one = make();
      std::vector<double> mine;
      std::string err;
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        if (!one(err)) {
          std::lock_guard lk(mu);
          if (failures++ == 0) first_error = err;
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
      "{\"what\":\"%s\",\"count\":%zu,\"seconds\":%.1f,\"per_s\":%.0f,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"failures\":%ld,\"threads\":%d}\n",
      what, latencies_ms.size(), seconds, latencies_ms.size() / seconds, pct(0.5), pct(0.99),
      failures.load(), threads);
  if (failures > 0) std::fprintf(stderr, "first failure: %s\n", first_error.c_str());
  return failures > 0 || latencies_ms.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "login" && argc == 7) {
    const auto port = static_cast<unsigned short>(std::atoi(argv[2]));
    const auto profile = std::get<client::HomeProfile>(client::parse_profile(slurp(argv[3])));
    std::string pw = slurp(argv[4]);
    pw.resize(pw.find_first_of("\r\n") == std::string::npos ? pw.size() : pw.find_first_of("\r\n"));
    const auto pwd_key = login::pwd_key(pw, profile.nai);
    return run("login", std::atof(argv[5]), std::atoi(argv[6]), [&] {
      client::HttpsOptions o;
      o.port = port;
      o.verify_server = false;
      auto https = std::make_shared<client::HttpsClient>(o);
      auto transport = std::make_shared<client::HttpsTransport>(*https);
      return std::function<bool(std::string&)>(
          [https, transport, &profile, &pwd_key](std::string& err) {
            client::RoamingLogin l(*transport, profile, pwd_key);
            const auto got = l.run();
            if (const auto* e = std::get_if<client::Error>(&got))
              return err = e->to_string(), false;
            const auto& r = std::get<client::LoginOutcome>(got);
            if (!r.accepted) return err = "refused: " + r.reason, false;
            return true;
          });
    });
  }
  if (mode == "vectors" && argc == 9) {
    client::GatewayOptions o;
    o.port = static_cast<unsigned short>(std::atoi(argv[2]));
    o.ca_file = argv[3];
    o.cert_file = argv[4];
    o.key_file = argv[5];
    const std::string nai = argv[6];
    return run("vectors", std::atof(argv[7]), std::atoi(argv[8]), [&] {
      auto ag = std::make_shared<client::GatewayClient>(o);
      return std::function<bool(std::string&)>([ag, nai](std::string& err) {
        const auto got = ag->fetch_vectors(nai, ident::Kind::aka, 1);
        if (const auto* e = std::get_if<client::Error>(&got)) return err = e->to_string(), false;
        return true;
      });
    });
  }
  std::fprintf(stderr,
               "usage: bench_login login PORT PROFILE PASSWORD_FILE SECONDS THREADS\n"
               "       bench_login vectors PORT CA CERT KEY NAI SECONDS THREADS\n");
  return 2;
}
