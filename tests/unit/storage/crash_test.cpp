// Crash safety with real processes: a child issues vectors from several threads and is killed
// with SIGKILL at random moments; after every kill the database must hold every vector the
// child reported, each with its billing record, and never a SQN or RAND twice.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "storage/store.hpp"
#include "tests/unit/support/postgres.hpp"
#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using namespace oag::storage;

namespace {

struct Printed {
  std::string id, subject, kind, rand;
  std::uint64_t sqn = 0, billing_seq = 0;
};

// Runs the child for `ms` milliseconds, then SIGKILL; returns the complete lines it printed
// and whether it was still running when killed.
std::pair<std::vector<Printed>, bool> run_and_kill(const std::vector<std::string>& args, int ms) {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  kill(pid, SIGKILL);
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;

  std::vector<Printed> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: incomplete (cannot happen with one write per line)
    std::istringstream l(line);
    Printed p;
    std::string tag;
    l >> tag >> p.id >> p.subject >> p.kind >> p.sqn >> p.rand >> p.billing_seq;
    if (tag == "V") lines.push_back(p);
  }
  return {lines, killed};
}

// A new database at `path` with a new master key at `key_path` and the `subjects`.
void provision(const std::string& backend, const std::string& path, const std::string& key_path,
               const std::vector<std::string>& subjects) {
  BackendConfig cfg;
  cfg.backend = backend;
  cfg.path = path;
  cfg.master_key = std::make_shared<MasterKey>(MasterKey::generate(key_path));
  cfg.create = true;
  auto b = open_backend(cfg);
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    SubscriberInput in;
    in.nai = subjects[i];
    in.imsi = "00101000000000" + std::to_string(i);
    in.keys = aka::SubscriberKeys::from_opc(aka::Algorithm::milenage,
                                            test::unhex("465b5ce8b199b49faa5f0a2ee238a6bc"),
                                            test::unhex("cd63cb71954a9f4e48a5994e37a02baf"));
    REQUIRE(b->subscribers().add(in).ok());
  }
}

}  // namespace

TEST_CASE("SIGKILL at random moments loses no committed vector or billing record",
          "[storage][crash]") {
  test::TempDir dir;
  const auto db_path = dir.file("oag.db");
  const auto key_path = dir.file("master.key");
  const std::vector<std::string> subjects = {"s1@op-a.example", "s2@op-a.example",
                                             "s3@op-a.example"};
  provision("sqlite", db_path, key_path, subjects);

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay(40, 400);
  std::vector<std::string> args = {CRASH_CHILD_PATH, db_path, key_path, "4"};
  args.insert(args.end(), subjects.begin(), subjects.end());

  std::vector<Printed> all;
  int kills = 0;
  std::map<std::string, std::uint64_t> max_seq_before;  // per subject, highest SEQ printed so far
  for (int round = 0; round < 25; ++round) {
    auto [lines, killed] = run_and_kill(args, delay(rng));
    kills += killed;
    for (const auto& p : lines) {
      if (p.kind != "aka") continue;
      // SEQ only grows: nothing issued after a restart goes below what was issued before it.
      const std::uint64_t seq = p.sqn >> 5;
      INFO("round " << round << " subject " << p.subject);
      CHECK(seq > max_seq_before[p.subject]);
    }
    for (const auto& p : lines)
      if (p.kind == "aka")
        max_seq_before[p.subject] = std::max(max_seq_before[p.subject], p.sqn >> 5);
    all.insert(all.end(), lines.begin(), lines.end());
  }
  CHECK(kills >= 20);
  REQUIRE(all.size() > 100);

  // Every printed vector has its row and its billing record.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(
              db,
              "SELECT v.sqn, hex(v.rand), b.request_id = v.request_id, s.nai FROM vectors v "
              "JOIN subscribers s ON s.id = v.subscriber_id "
              "LEFT JOIN billing b ON b.chain = 'main' AND b.seq = ?2 WHERE v.id = ?1",
              -1, &q, nullptr) == SQLITE_OK);
  std::size_t missing = 0, mismatched = 0;
  std::set<std::pair<std::string, std::uint64_t>> sqns;
  std::set<std::pair<std::string, std::string>> rands;
  for (const auto& p : all) {
    sqlite3_bind_text(q, 1, p.id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, static_cast<sqlite3_int64>(p.billing_seq));
    if (sqlite3_step(q) != SQLITE_ROW) {
      ++missing;
    } else {
      std::string rand_hex = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
      for (auto& c : rand_hex) c = static_cast<char>(std::tolower(c));
      const bool same =
          rand_hex == p.rand && sqlite3_column_int(q, 2) == 1 &&
          reinterpret_cast<const char*>(sqlite3_column_text(q, 3)) == p.subject &&
          (p.kind != "aka" || static_cast<std::uint64_t>(sqlite3_column_int64(q, 0)) == p.sqn);
      mismatched += !same;
    }
    sqlite3_reset(q);
    if (p.kind == "aka") CHECK(sqns.insert({p.subject, p.sqn}).second);
    CHECK(rands.insert({p.subject, p.rand}).second);
  }
  sqlite3_finalize(q);
  const auto scalar = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const auto v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  };
  CHECK(missing == 0);
  CHECK(mismatched == 0);
  // Nothing in the database repeats a SQN or RAND per subscriber, and SEQ_HE covers every SQN.
  CHECK(scalar("SELECT count(*) FROM (SELECT 1 FROM vectors WHERE sqn IS NOT NULL GROUP BY "
               "subscriber_id, sqn "
               "HAVING count(*) > 1)") == 0);
  CHECK(scalar("SELECT count(*) FROM (SELECT 1 FROM vectors GROUP BY subscriber_id, rand HAVING "
               "count(*) > 1)") == 0);
  // (The SEQ of the vector's IND slot; a slot without a row continues from the base seq_he.)
  CHECK(scalar("SELECT count(*) FROM vectors v JOIN subscribers s ON s.id = v.subscriber_id "
               "WHERE v.sqn IS NOT NULL AND (v.sqn >> s.ind_len) > coalesce((SELECT seq FROM "
               "sqn_slots WHERE subscriber_id = s.id AND ind = (v.sqn & ((1 << s.ind_len) - 1))), "
               "s.seq_he)") == 0);
  CHECK(scalar("SELECT count(*) FROM sqn_slots") == 3);  // the child's slot, one per subject
  sqlite3_close(db);

  BackendConfig cfg;
  cfg.path = db_path;
  cfg.master_key = std::make_shared<MasterKey>(MasterKey::load(key_path));
  auto b = open_backend(cfg);
  const auto chain = b->billing().verify().value();
  CHECK_FALSE(chain.first_bad.has_value());
  INFO(chain.reason);
  CHECK(chain.records >= all.size() / 3);
  WARN("crash test: " << kills << " SIGKILLs survived, " << all.size() << " vectors reported, "
                      << chain.records << " billing records verified");
}

TEST_CASE("SIGKILL at random moments on PostgreSQL loses no committed vector or billing record",
          "[storage][crash][postgresql]") {
  test::TempDir dir;
  test::PgDatabase pg;
  const auto key_path = dir.file("master.key");
  const std::vector<std::string> subjects = {"s1@op-a.example", "s2@op-a.example"};
  provision("postgresql", pg.conninfo(), key_path, subjects);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay(60, 400);
  std::vector<std::string> args = {CRASH_CHILD_PATH, pg.conninfo(), key_path, "4"};
  args.insert(args.end(), subjects.begin(), subjects.end());
  std::vector<Printed> all;
  int kills = 0;
  for (int round = 0; round < 25; ++round) {
    auto [lines, killed] = run_and_kill(args, delay(rng));
    kills += killed;
    all.insert(all.end(), lines.begin(), lines.end());
  }
  CHECK(kills >= 20);
  REQUIRE(all.size() > 100);
  std::string ids, seqs;
  std::set<std::uint64_t> billing_seqs;
  std::set<std::pair<std::string, std::uint64_t>> sqns;
  for (const auto& p : all) {
    ids += (ids.empty() ? "'" : ",'") + p.id + "'";
    billing_seqs.insert(p.billing_seq);
    if (p.kind == "aka") CHECK(sqns.insert({p.subject, p.sqn}).second);
  }
  for (const auto s : billing_seqs) seqs += (seqs.empty() ? "" : ",") + std::to_string(s);
  // Every printed vector is in the database, and every printed billing record.
  CHECK(pg.scalar("SELECT count(*) FROM vectors WHERE id IN (" + ids + ")") ==
        static_cast<long long>(all.size()));
  CHECK(pg.scalar("SELECT count(*) FROM billing WHERE chain = 'main' AND seq IN (" + seqs + ")") ==
        static_cast<long long>(billing_seqs.size()));
  CHECK(pg.scalar("SELECT count(*) FROM (SELECT 1 FROM vectors WHERE sqn IS NOT NULL GROUP BY "
                  "subscriber_id, sqn HAVING count(*) > 1) d") == 0);
  CHECK(pg.scalar("SELECT count(*) FROM (SELECT 1 FROM vectors GROUP BY subscriber_id, rand "
                  "HAVING count(*) > 1) d") == 0);
  CHECK(pg.scalar(
            "SELECT count(*) FROM vectors v JOIN sqn_slots s ON s.subscriber_id = "
            "v.subscriber_id AND s.ind = 1 WHERE v.sqn IS NOT NULL AND (v.sqn >> 5) > s.seq") == 0);
  BackendConfig cfg;
  cfg.backend = "postgresql";
  cfg.path = pg.conninfo();
  cfg.master_key = std::make_shared<MasterKey>(MasterKey::load(key_path));
  auto b = open_backend(cfg);
  const auto chain = b->billing().verify().value();
  CHECK_FALSE(chain.first_bad.has_value());
  INFO(chain.reason);
  WARN("crash test on PostgreSQL: " << kills << " SIGKILLs survived, " << all.size()
                                    << " vectors reported, " << chain.records
                                    << " billing records verified");
}
