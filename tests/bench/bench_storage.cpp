// Durable issue throughput of the SQLite backend (WAL, synchronous=FULL, a real file) with 1 and
// with 16 concurrent callers, beside the same machine's rate of one-row-per-transaction commits,
// measured in the same run.  Run: build/tests/bench/bench_storage [seconds per case, default 3]
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto/aka/hex.hpp"
#include "storage/store.hpp"

using namespace oag;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One INSERT per transaction, synchronous=FULL: the commit (fsync) rate of this disk.
double raw_commits_per_s(const std::string& path, double seconds) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (id INTEGER "
               "PRIMARY KEY, v BLOB)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (randomblob(64))", -1, &ins, nullptr);
  std::uint64_t n = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < seconds) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    ++n;
  }
  const double rate = n / seconds_since(t0);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

struct Run {
  double per_s;
  double mean_batch;
  double p50_us, p99_us;
};

Run issue_rate(storage::Backend& b, int callers, double seconds, int subscribers) {
  const auto before = b.stats();
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> done{0}, failed{0};
  std::vector<std::vector<double>> lat(callers);
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (int c = 0; c < callers; ++c)
    threads.emplace_back([&, c] {
      for (std::uint64_t i = 0; !stop; ++i) {
        storage::IssueRequest r;
        r.subject = "s" + std::to_string((c * 7919 + i) % subscribers) + "@op-a.example";
        r.kind = storage::Kind::aka;
        r.requester = "bench@op-b.example";
        r.request_id = std::to_string(c) + "-" + std::to_string(i);
        const auto s = Clock::now();
        auto res = b.issuance().issue(r);
        lat[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
        (res.ok() ? done : failed)++;
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = seconds_since(t0);
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  if (all.empty()) all.push_back(0);
  const auto after = b.stats();
  if (failed)
    std::fprintf(stderr, "warning: %llu issues failed\n",
                 static_cast<unsigned long long>(failed.load()));
  return {done / elapsed,
          double(after.requests - before.requests) / double(after.commits - before.commits),
          all[all.size() / 2], all[all.size() * 99 / 100]};
}

// One thread keeps `window` requests in flight through issue_async, as the daemon's I/O
// threads do: the writer's batches are then as large as the queue allows.
Run async_rate(storage::Backend& b, unsigned window, double seconds, int subscribers) {
  const auto before = b.stats();
  std::mutex mu;
  std::condition_variable cv;
  unsigned in_flight = 0;
  std::uint64_t done = 0, failed = 0, i = 0;
  const auto t0 = Clock::now();
  while (seconds_since(t0) < seconds) {
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return in_flight < window; });
      ++in_flight;
    }
    storage::IssueRequest r;
    r.subject = "s" + std::to_string(i % subscribers) + "@op-a.example";
    r.requester = "bench@op-b.example";
    r.request_id = "async-" + std::to_string(i++);
    b.issuance().issue_async(std::move(r), [&](storage::Result<storage::IssueResult> res) {
      std::lock_guard lk(mu);
      --in_flight;
      (res.ok() ? done : failed)++;
      cv.notify_one();
    });
  }
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return in_flight == 0; });
  const double elapsed = seconds_since(t0);
  const auto after = b.stats();
  if (failed)
    std::fprintf(stderr, "warning: %llu issues failed\n", static_cast<unsigned long long>(failed));
  return {done / elapsed,
          double(after.requests - before.requests) / double(after.commits - before.commits), 0, 0};
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  if (!(seconds > 0)) {
    std::fprintf(stderr, "usage: %s [SECONDS per case, default 3] [async-only | PG-CONNINFO]\n",
                 argv[0]);
    return 2;
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("oag-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const int kSubscribers = 1000;

  storage::BackendConfig cfg;
  cfg.path = (dir / "oag.db").string();
  cfg.master_key = std::make_shared<storage::MasterKey>(
      storage::MasterKey::generate((dir / "master.key").string()));
  cfg.create = true;
  auto b = storage::open_backend(cfg);
  std::vector<storage::SubscriberInput> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    storage::SubscriberInput in;
    in.nai = "s" + std::to_string(i) + "@op-a.example";
    in.imsi = std::to_string(1010000000000 + i);
    std::uint8_t k[16], opc[16];
    for (int j = 0; j < 16; ++j) k[j] = opc[j] = static_cast<std::uint8_t>(i * 31 + j);
    in.keys = aka::SubscriberKeys::from_opc(aka::Algorithm::milenage, aka::ByteView(k, 16),
                                            aka::ByteView(opc, 16));
    subs.push_back(std::move(in));
  }
  b->subscribers().import(subs).value();

  if (argc > 2 && std::string(argv[2]) == "async-only") {  // for profiling the writer alone
    const Run a = async_rate(*b, 256, seconds, kSubscribers);
    std::printf("issue_async, 256 in flight: %.0f /s  mean batch %.1f\n", a.per_s, a.mean_batch);
    return 0;
  }
  const double raw = raw_commits_per_s((dir / "raw.db").string(), seconds);
  const Run one = issue_rate(*b, 1, seconds, kSubscribers);
  const Run many = issue_rate(*b, 16, seconds, kSubscribers);
  const Run async = async_rate(*b, 256, seconds, kSubscribers);
  const double raw_again = raw_commits_per_s((dir / "raw2.db").string(), seconds);
  b.reset();
  cfg.create = false;
  cfg.synchronous_full = false;  // the same work without fsync: the CPU ceiling of the writer
  b = storage::open_backend(cfg);
  const Run nosync = issue_rate(*b, 16, seconds, kSubscribers);

  std::printf("storage benchmark (%s, WAL, synchronous=FULL, %.1f s per case)\n", cfg.path.c_str(),
              seconds);
  std::printf("  one-row-per-transaction commits: %10.0f /s (before), %.0f /s (after)\n", raw,
              raw_again);
  std::printf(
      "  issue, 1 caller:                 %10.0f /s  p50 %.0f us  p99 %.0f us  mean batch %.1f\n",
      one.per_s, one.p50_us, one.p99_us, one.mean_batch);
  std::printf(
      "  issue, 16 callers (group commit):%10.0f /s  p50 %.0f us  p99 %.0f us  mean batch %.1f\n",
      many.per_s, many.p50_us, many.p99_us, many.mean_batch);
  std::printf("  issue_async, 256 in flight:      %10.0f /s  mean batch %.1f\n", async.per_s,
              async.mean_batch);
  std::printf(
      "  issue, 16 callers, no fsync:     %10.0f /s  p50 %.0f us  p99 %.0f us  mean batch %.1f\n",
      nosync.per_s, nosync.p50_us, nosync.p99_us, nosync.mean_batch);
  std::printf("  ratio 16 callers / raw commits:  %10.1f x\n",
              many.per_s / ((raw + raw_again) / 2));
  if (const char* summary = std::getenv("OAG_BENCH_SUMMARY")) {  // tests/bench/summary.sh
    if (FILE* f = std::fopen(summary, "a")) {
      std::fprintf(f,
                   "{\"bench\":\"storage\",\"one_caller_per_s\":%.0f,\"callers16_per_s\":%.0f,"
                   "\"async_per_s\":%.0f,\"nosync16_per_s\":%.0f}\n",
                   one.per_s, many.per_s, async.per_s, nosync.per_s);
      std::fclose(f);
    }
  }
  b.reset();

  // PostgreSQL beside it in the same run (argument 2: a conninfo; bench_storage_pg.sh starts a
  // server of its own): the same cases, durable (synchronous_commit on, fsync on).
  if (argc > 2 && storage::is_postgresql_location(argv[2])) {
    storage::BackendConfig pc = cfg;
    pc.backend = "postgresql";
    pc.path = argv[2];
    pc.create = true;
    pc.synchronous_full = true;
    auto p = storage::open_backend(pc);
    p->subscribers().import(subs).value();
    const Run p1 = issue_rate(*p, 1, seconds, kSubscribers);
    const Run p16 = issue_rate(*p, 16, seconds, kSubscribers);
    const Run pa = async_rate(*p, 256, seconds, kSubscribers);
    std::printf("PostgreSQL, same run (synchronous_commit=on, group commit)\n");
    std::printf(
        "  issue, 1 caller:                 %10.0f /s  p50 %.0f us  p99 %.0f us  mean batch %.1f\n",
        p1.per_s, p1.p50_us, p1.p99_us, p1.mean_batch);
    std::printf(
        "  issue, 16 callers (group commit):%10.0f /s  p50 %.0f us  p99 %.0f us  mean batch %.1f\n",
        p16.per_s, p16.p50_us, p16.p99_us, p16.mean_batch);
    std::printf("  issue_async, 256 in flight:      %10.0f /s  mean batch %.1f\n", pa.per_s,
                pa.mean_batch);
    std::printf("  ratio PostgreSQL / SQLite: 1 caller %.2f, 16 callers %.2f, async %.2f\n",
                p1.per_s / one.per_s, p16.per_s / many.per_s, pa.per_s / async.per_s);
  }
  std::filesystem::remove_all(dir);
}
