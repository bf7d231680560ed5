// The generic storage suite: written against the interfaces of storage/store.hpp and run for
// every backend the factory knows (Kea's pattern). Backend-specific checks are marked.
#include <sqlite3.h>
#include <sys/stat.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <future>
#include <iterator>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>
#include <thread>

#include "proto/aka/hex.hpp"
#include "proto/aka/usim.hpp"
#include "storage/billing_chain.hpp"
#include "storage/store.hpp"
#include "tests/unit/support/postgres.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using namespace oag::storage;

namespace {

const std::string kK = "465b5ce8b199b49faa5f0a2ee238a6bc";
const std::string kOpc = "cd63cb71954a9f4e48a5994e37a02baf";

SubscriberInput subscriber(const std::string& nai, const std::string& imsi,
                           const std::string& k = kK, const std::string& opc = kOpc) {
  SubscriberInput in;
  in.nai = nai;
  in.imsi = imsi;
  in.keys =
      aka::SubscriberKeys::from_opc(aka::Algorithm::milenage, test::unhex(k), test::unhex(opc));
  return in;
}

IssueRequest request(const std::string& subject, Kind kind = Kind::aka, unsigned count = 1) {
  static std::atomic<int> n{0};
  IssueRequest r;
  r.subject = subject;
  r.kind = kind;
  r.count = count;
  r.requester = "bob@op-b.example";
  r.request_id = "req-" + std::to_string(++n);
  return r;
}

struct Fixture {
  explicit Fixture(std::string backend_name) : backend(std::move(backend_name)) {
    key_file = dir.file("master.key");
    key = std::make_shared<MasterKey>(MasterKey::generate(key_file));
    if (backend == "postgresql") {
      pg = std::make_unique<test::PgDatabase>();
      db_path = pg->conninfo();
    } else {
      db_path = dir.file("oag.db");
    }
    open(true);
  }
  BackendConfig config(bool create = false) {
    BackendConfig c;
    c.backend = backend;
    c.path = db_path;
    c.master_key = key;
    c.create = create;
    c.ind_slot = 3;
    c.now_ms = [this] { return now; };
    return c;
  }
  void open(bool create = false) { b = open_backend(config(create)); }
  std::vector<BillingRecord> billing_records() {
    std::vector<BillingRecord> v;
    REQUIRE(
        b->billing()
            .for_each(0, INT64_MAX, [&](const BillingRecord& r) { return v.push_back(r), true; })
            .ok());
    return v;
  }
  std::uint64_t billing_count() { return billing_records().size(); }
  std::uint64_t seq_of(const std::string& nai) { return b->subscribers().get(nai).value().seq_he; }

  std::string backend;
  test::TempDir dir;
  std::unique_ptr<test::PgDatabase> pg;  // postgresql: this fixture's own database
  std::string key_file;
  std::string db_path;
  std::shared_ptr<const MasterKey> key;
  std::int64_t now = 1'800'000'000'000;
  std::unique_ptr<Backend> b;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string popen_read(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  REQUIRE(pclose(p) == 0);
  return out;
}

void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

#define FOR_EACH_BACKEND() const std::string backend_name = GENERATE(from_range(backend_names()))

}  // namespace

TEST_CASE("open: create, reopen, refuse missing, newer schema, wrong master key", "[storage]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  CHECK(f.b->schema_version() == latest_schema_version(backend_name));
  CHECK(f.b->healthy());
  f.b.reset();
  f.open(false);  // reopening needs no create
  f.b.reset();

  auto cfg = f.config();
  cfg.path =
      backend_name == "postgresql" ? test::pg_conninfo("oag_missing") : f.dir.file("missing.db");
  CHECK_THROWS_WITH(open_backend(cfg), Catch::Contains("oagctl init"));

  cfg = f.config();
  cfg.master_key = std::make_shared<MasterKey>(MasterKey::generate(f.dir.file("other.key")));
  CHECK_THROWS_WITH(open_backend(cfg), Catch::Contains("master key"));

  cfg = f.config();
  cfg.backend = "oracle";
  CHECK_THROWS_WITH(open_backend(cfg), Catch::Contains("store.backend"));

  if (backend_name == "postgresql") {
    f.pg->exec("INSERT INTO oag_schema VALUES (99, 0)");
    CHECK_THROWS_WITH(open_backend(f.config()), Catch::Contains("newer than this build"));
    f.pg->exec("DELETE FROM oag_schema WHERE version = 99; DROP TABLE oag_schema");
    CHECK_THROWS_WITH(open_backend(f.config()), Catch::Contains("not an OAG database"));
  }
  if (backend_name == "sqlite") {
    raw_sql(f.db_path, "PRAGMA user_version = 99");
    CHECK_THROWS_WITH(open_backend(f.config()), Catch::Contains("newer than this build"));
    raw_sql(f.db_path, "PRAGMA user_version = 0");
    CHECK_THROWS_WITH(open_backend(f.config()), Catch::Contains("not an OAG database"));
  }
}

TEST_CASE("master key file: must be 32 bytes and mode 0600", "[storage][keys]") {
  test::TempDir dir;
  const auto path = dir.file("k");
  MasterKey::generate(path);
  CHECK_NOTHROW(MasterKey::load(path));
  CHECK_THROWS_WITH(MasterKey::generate(path), Catch::Contains(path));  // never overwritten
  chmod(path.c_str(), 0640);
  CHECK_THROWS_WITH(MasterKey::load(path), Catch::Contains("mode 0600"));
  chmod(path.c_str(), 0600);
  std::ofstream(path, std::ios::app) << "x";
  CHECK_THROWS_WITH(MasterKey::load(path), Catch::Contains("exactly 32 bytes"));
  CHECK_THROWS_WITH(MasterKey::load(dir.file("nope")), Catch::Contains("nope"));
}

TEST_CASE("subscribers: add, get, list, conflicts, validation, state, delete", "[storage]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  auto& subs = f.b->subscribers();
  const auto a = subs.add(subscriber("alice@op-a.example", "001010000000001"));
  REQUIRE(a.ok());
  CHECK(a.value().nai == "alice@op-a.example");
  CHECK(a.value().seq_he == 0);
  CHECK(a.value().state == State::active);

  auto dup = subs.add(subscriber("alice@op-a.example", "001010000000002"));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.error().code == Errc::conflict);
  CHECK_THAT(dup.error().detail, Catch::StartsWith("nai:"));
  dup = subs.add(subscriber("carol@op-a.example", "001010000000001"));
  REQUIRE_FALSE(dup.ok());
  CHECK_THAT(dup.error().detail, Catch::StartsWith("imsi:"));

  auto bad = subscriber("no-realm", "001010000000003");
  CHECK(subs.add(bad).error().detail.rfind("nai:", 0) == 0);
  bad = subscriber("dave@op-a.example", "12ab");
  CHECK(subs.add(bad).error().code == Errc::invalid);
  bad = subscriber("dave@op-a.example", "001010000000003");
  bad.ind_len = 11;
  CHECK(subs.add(bad).error().detail.rfind("ind_len:", 0) == 0);

  CHECK(subs.get("nobody@op-a.example").error().code == Errc::not_found);
  REQUIRE(subs.add(subscriber("bob@op-a.example", "001010000000004")).ok());
  const auto l = subs.list(0, 10).value();
  REQUIRE(l.size() == 2);
  CHECK(l[0].nai == "alice@op-a.example");
  CHECK(subs.list(1, 10).value().size() == 1);

  REQUIRE(subs.set_state("bob@op-a.example", State::suspended).ok());
  CHECK(subs.get("bob@op-a.example").value().state == State::suspended);
  CHECK(subs.set_state("nobody@op-a.example", State::active).error().code == Errc::not_found);
  REQUIRE(subs.remove("bob@op-a.example").ok());
  CHECK(subs.get("bob@op-a.example").error().code == Errc::not_found);
  CHECK(subs.remove("bob@op-a.example").error().code == Errc::not_found);
}

TEST_CASE("import is all or nothing and names the bad entry", "[storage]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  std::vector<SubscriberInput> batch;
  for (int i = 0; i < 50; ++i)
    batch.push_back(subscriber("u" + std::to_string(i) + "@op-a.example",
                               "0010100000" + std::to_string(10000 + i)));
  batch.push_back(subscriber("u7@op-a.example", "001019999999999"));  // duplicate NAI, entry 51
  const auto r = f.b->subscribers().import(batch);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::conflict);
  CHECK_THAT(r.error().detail, Catch::StartsWith("entry 51: nai:"));
  CHECK(f.b->subscribers().list(0, 100).value().empty());
  batch.pop_back();
  CHECK(f.b->subscribers().import(batch).value() == 50);
  CHECK(f.b->subscribers().list(0, 100).value().size() == 50);
}

TEST_CASE("keys at rest: the database file holds no K or OPc and a moved row does not decrypt",
          "[storage][keys]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(subscriber("alice@op-a.example", "001010000000001")).ok());
  REQUIRE(
      f.b->subscribers()
          .add(subscriber("bob@op-a.example", "001010000000002", "fec86ba6eb707ed08905757b1bb44b8f",
                          "1006020f0a478bf6b699f15c062e42b3"))
          .ok());
  REQUIRE(f.b->issuance().issue(request("alice@op-a.example")).ok());
  if (backend_name == "postgresql") {
    // What an operator would look at: pg_dump of the database (bytea is dumped as hex).
    const std::string dump = popen_read("pg_dump '" + f.db_path + "'");
    CHECK(dump.find("alice@op-a.example") != std::string::npos);  // the dump did work
    for (const auto& secret : {kK, kOpc, std::string("fec86ba6eb707ed08905757b1bb44b8f")})
      CHECK(dump.find(secret) == std::string::npos);
    f.pg->exec(
        "UPDATE subscribers SET k_enc = (SELECT k_enc FROM subscribers WHERE nai = "
        "'alice@op-a.example'), opc_enc = (SELECT opc_enc FROM subscribers WHERE nai = "
        "'alice@op-a.example') WHERE nai = 'bob@op-a.example'");
    const auto before = f.billing_count();
    const auto r = f.b->issuance().issue(request("bob@op-a.example"));
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().detail, Catch::Contains("do not decrypt"));
    CHECK(f.billing_count() == before);
    return;
  }
  f.b.reset();  // checkpoint the WAL into the file
  const std::string raw = read_all(f.db_path) + read_all(f.db_path + "-wal");
  // What an operator would look at: `sqlite3 oag.db .dump`.
  std::string dump;
  {
    FILE* p = popen(("sqlite3 '" + f.db_path + "' .dump").c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) dump.append(buf, n);
    REQUIRE(pclose(p) == 0);
  }
  CHECK(dump.find("alice@op-a.example") != std::string::npos);  // the dump did work
  for (const auto& secret : {kK, kOpc, std::string("fec86ba6eb707ed08905757b1bb44b8f")}) {
    const auto bytes = test::unhex(secret);
    CHECK(raw.find(std::string(bytes.begin(), bytes.end())) == std::string::npos);
    CHECK(raw.find(secret) == std::string::npos);
    std::string upper = secret;
    for (auto& c : upper) c = static_cast<char>(std::toupper(c));
    CHECK(dump.find(secret) == std::string::npos);
    CHECK(dump.find(upper) == std::string::npos);  // .dump writes blobs as X'..' in upper case
  }
  // Give bob alice's sealed keys: the NAI bound into GCM makes them useless there.
  raw_sql(f.db_path,
          "UPDATE subscribers SET k_enc = (SELECT k_enc FROM subscribers WHERE nai = "
          "'alice@op-a.example'), "
          "opc_enc = (SELECT opc_enc FROM subscribers WHERE nai = 'alice@op-a.example') "
          "WHERE nai = 'bob@op-a.example'");
  f.open();
  const auto before = f.billing_count();
  const auto r = f.b->issuance().issue(request("bob@op-a.example"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::unavailable);
  CHECK_THAT(r.error().detail, Catch::Contains("do not decrypt"));
  CHECK(f.billing_count() == before);
}

TEST_CASE("issue aka: vectors verify against K and SQN = SEQ+1 with this instance's IND",
          "[storage][issue]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  auto in = subscriber("alice@op-a.example", "001010000000001");
  in.seq_he = 41;
  REQUIRE(f.b->subscribers().add(in).ok());
  auto req = request("alice@op-a.example", Kind::aka, 3);
  req.price_micros = 20'000;
  req.currency = "EUR";
  const auto r = f.b->issuance().issue(req);
  REQUIRE(r.ok());
  const auto& res = r.value();
  REQUIRE(res.vectors.size() == 3);
  CHECK_FALSE(res.replayed);
  aka::UsimSqnState usim(5);
  for (unsigned i = 0; i < 3; ++i) {
    const auto& v = res.vectors[i];
    CHECK(v.sqn == aka::Sqn::from_seq_ind(42 + i, 3, 5));
    CHECK(v.expires_ms == f.now + 600'000);
    CHECK(v.id.size() == 36);
    const auto out = aka::usim_run_aka(in.keys, v.rand, v.autn, usim);
    REQUIRE(std::holds_alternative<aka::AkaSuccess>(out));
    CHECK(std::get<aka::AkaSuccess>(out).res == v.xres);
    CHECK(std::get<aka::AkaSuccess>(out).ck == v.ck);
  }
  CHECK(f.seq_of("alice@op-a.example") == 44);
  const auto bill = f.billing_records();
  REQUIRE(bill.size() == 1);
  CHECK(bill[0].seq == res.billing_seq);
  CHECK(bill[0].count == 3);
  CHECK(bill[0].role == Role::local);
  CHECK(bill[0].subject_realm == "op-a.example");
  CHECK(bill[0].requester_realm == "op-b.example");
  CHECK(bill[0].unit_price_micros == 20'000);
  CHECK(bill[0].time_ms == f.now);
  CHECK(bill[0].rand_sha256.size() == 64);
  CHECK(bill[0].prev_hash == std::string(64, '0'));
}

TEST_CASE("issue sim: triplets from the same K/OPc, SEQ untouched", "[storage][issue]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  const auto in = subscriber("alice@op-a.example", "001010000000001");
  REQUIRE(f.b->subscribers().add(in).ok());
  const auto r = f.b->issuance().issue(request("alice@op-a.example", Kind::sim, 2));
  REQUIRE(r.ok());
  for (const auto& v : r.value().vectors) {
    const auto t = aka::generate_triplet(in.keys, v.rand);
    CHECK(aka::equal_ct(t.sres.expose(), v.xres.expose()));
    CHECK(t.kc == v.kc);
  }
  CHECK(r.value().vectors[0].rand != r.value().vectors[1].rand);
  CHECK(f.seq_of("alice@op-a.example") == 0);
}

TEST_CASE("issue refusals are typed and write nothing", "[storage][issue]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  auto in = subscriber("alice@op-a.example", "001010000000001");
  in.kinds = kAka;
  REQUIRE(f.b->subscribers().add(in).ok());
  REQUIRE(f.b->subscribers().add(subscriber("bob@op-a.example", "001010000000002")).ok());
  REQUIRE(f.b->subscribers().set_state("bob@op-a.example", State::suspended).ok());
  auto& iss = f.b->issuance();
  CHECK(iss.issue(request("nobody@op-a.example")).error().code == Errc::not_found);
  CHECK(iss.issue(request("bob@op-a.example")).error().code == Errc::disabled);
  const auto sim = iss.issue(request("alice@op-a.example", Kind::sim));
  CHECK(sim.error().code == Errc::not_allowed);
  CHECK_THAT(sim.error().detail, Catch::StartsWith("kind:"));
  CHECK(iss.issue(request("alice@op-a.example", Kind::aka, 0)).error().detail.rfind("count:", 0) ==
        0);
  CHECK(iss.issue(request("alice@op-a.example", Kind::aka, kMaxCount + 1)).error().code ==
        Errc::invalid);
  auto no_id = request("alice@op-a.example");
  no_id.request_id.clear();
  CHECK(iss.issue(no_id).error().detail.rfind("request_id:", 0) == 0);
  CHECK(f.billing_count() == 0);
  CHECK(f.seq_of("alice@op-a.example") == 0);
  CHECK(f.seq_of("bob@op-a.example") == 0);
}

TEST_CASE("SEQ exhaustion is refused without a step", "[storage][issue]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  auto in = subscriber("alice@op-a.example", "001010000000001");
  in.seq_he = (aka::Sqn::kMax >> 5) - 1;
  REQUIRE(f.b->subscribers().add(in).ok());
  CHECK(f.b->issuance().issue(request("alice@op-a.example")).ok());
  CHECK(f.b->issuance().issue(request("alice@op-a.example")).error().code == Errc::exhausted);
  CHECK(f.billing_count() == 1);
}

TEST_CASE("idempotent retries: same (peer, request_id) returns the stored answer, bills nothing",
          "[storage][issue]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(subscriber("alice@op-a.example", "001010000000001")).ok());
  auto req = request("alice@op-a.example", Kind::aka, 2);
  req.role = Role::sold;
  req.peer = "op-b.example";
  req.agreement = "a-b-2026";
  const auto first = f.b->issuance().issue(req).value();
  const auto again = f.b->issuance().issue(req).value();
  CHECK(again.replayed);
  REQUIRE(again.vectors.size() == 2);
  for (int i = 0; i < 2; ++i) {
    CHECK(again.vectors[i].id == first.vectors[i].id);
    CHECK(again.vectors[i].rand == first.vectors[i].rand);
    CHECK(again.vectors[i].autn == first.vectors[i].autn);
    CHECK(again.vectors[i].xres == first.vectors[i].xres);
    CHECK(again.vectors[i].ik == first.vectors[i].ik);
  }
  CHECK(again.billing_seq == first.billing_seq);
  CHECK(f.billing_count() == 1);
  CHECK(f.seq_of("alice@op-a.example") == 2);

  auto other = req;
  other.count = 1;
  CHECK(f.b->issuance().issue(other).error().code == Errc::conflict);
  auto other_peer = req;
  other_peer.peer = "op-c.example";
  CHECK_FALSE(f.b->issuance().issue(other_peer).value().replayed);  // keys are per peer
}

TEST_CASE("results: recorded once, only by the requester, billed as a result event",
          "[storage][issue]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(subscriber("alice@op-a.example", "001010000000001")).ok());
  const auto v = f.b->issuance().issue(request("alice@op-a.example")).value().vectors.at(0);
  auto& iss = f.b->issuance();
  CHECK(iss.report_result(v.id, "mallory@op-b.example", true).error().code == Errc::not_found);
  CHECK(iss.report_result("00000000-0000-4000-8000-000000000000", "bob@op-b.example", true)
            .error()
            .code == Errc::not_found);
  REQUIRE(iss.report_result(v.id, "bob@op-b.example", false).ok());
  CHECK(iss.report_result(v.id, "bob@op-b.example", true).error().code == Errc::conflict);
  const auto bill = f.billing_records();
  REQUIRE(bill.size() == 2);
  CHECK(bill[1].event == "result");
  CHECK(bill[1].outcome == "failure");
  CHECK(bill[1].count == 0);
  CHECK(bill[1].request_id == bill[0].request_id);
}

TEST_CASE("resync: a good AUTS moves SEQ_HE past SQN_MS, a bad one changes nothing",
          "[storage][resync]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  const auto in = subscriber("alice@op-a.example", "001010000000001");
  REQUIRE(f.b->subscribers().add(in).ok());
  const auto v = f.b->issuance().issue(request("alice@op-a.example")).value().vectors.at(0);
  const auto sqn_ms = aka::Sqn::from_seq_ind(500, 7, 5);
  auto auts = aka::build_auts(in.keys, v.rand, sqn_ms);

  auto bad = auts;
  bad[10] ^= 4;
  CHECK(f.b->issuance().resync("alice@op-a.example", v.rand, bad).error().code == Errc::bad_auts);
  CHECK(f.seq_of("alice@op-a.example") == 1);
  aka::Bytes<16> unknown_rand{};
  CHECK(f.b->issuance()
            .resync("alice@op-a.example", unknown_rand, auts)
            .error()
            .detail.rfind("rand:", 0) == 0);
  CHECK(f.b->issuance().resync("nobody@op-a.example", v.rand, auts).error().code ==
        Errc::not_found);

  const auto r = f.b->issuance().resync("alice@op-a.example", v.rand, auts);
  REQUIRE(r.ok());
  CHECK(r.value() == sqn_ms);
  CHECK(f.seq_of("alice@op-a.example") == 500);
  const auto next = f.b->issuance().issue(request("alice@op-a.example")).value().vectors.at(0);
  CHECK(next.sqn.seq(5) == 501);
  // An old AUTS (SQN_MS below SEQ_HE) never moves SEQ back.
  REQUIRE(f.b->issuance()
              .resync("alice@op-a.example", v.rand, aka::build_auts(in.keys, v.rand, aka::Sqn{32}))
              .ok());
  CHECK(f.seq_of("alice@op-a.example") == 501);
}

TEST_CASE("group commit: 16 concurrent callers, batched commits, no SQN or RAND twice",
          "[storage][group]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  auto cfg = f.config();
  cfg.synchronous_full = false;  // the benchmark measures durable commits; this checks correctness
  f.b.reset();
  f.b = open_backend(cfg);
  REQUIRE(f.b->subscribers().add(subscriber("alice@op-a.example", "001010000000001")).ok());
  constexpr int kThreads = 16, kEach = 200;
  std::vector<std::vector<IssuedVector>> got(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = f.b->issuance().issue(request("alice@op-a.example"));
        if (!r.ok())
          ++failures;
        else
          got[t].push_back(std::move(r.value().vectors.at(0)));
      }
    });
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  std::set<std::uint64_t> sqns;
  std::set<aka::Bytes<16>> rands;
  for (const auto& g : got)
    for (const auto& v : g) {
      sqns.insert(v.sqn.value);
      rands.insert(v.rand);
    }
  CHECK(sqns.size() == kThreads * kEach);
  CHECK(rands.size() == kThreads * kEach);
  CHECK(f.seq_of("alice@op-a.example") == kThreads * kEach);
  const auto st = f.b->stats();
  CHECK(st.requests >= kThreads * kEach);
  CHECK(st.commits < st.requests);  // several requests shared a commit
  const auto chain = f.b->billing().verify().value();
  CHECK(chain.records == kThreads * kEach);
  CHECK_FALSE(chain.first_bad.has_value());
}

TEST_CASE("a failing request inside a batch fails alone (savepoint)", "[storage][group]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(subscriber("alice@op-a.example", "001010000000001")).ok());
  std::atomic<int> issued{0}, import_failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (i % 10 == t) {
          // Writes one row, then hits a duplicate: its first row must vanish with it.
          std::vector<SubscriberInput> b{
              subscriber("x" + std::to_string(t * 100 + i) + "@op-a.example",
                         "00102" + std::to_string(1000000000 + t * 100 + i)),
              subscriber("alice@op-a.example", "001039999999999")};
          if (!f.b->subscribers().import(b).ok()) ++import_failed;
        }
        if (f.b->issuance().issue(request("alice@op-a.example")).ok()) ++issued;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(issued == 200);
  CHECK(import_failed == 20);
  CHECK(f.b->subscribers().list(0, 1000).value().size() == 1);
  CHECK(f.b->billing().verify().value().records == 200);
}

TEST_CASE("billing verify: intact chain, then a tampered record and a gap are named",
          "[storage][billing]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(subscriber("alice@op-a.example", "001010000000001")).ok());
  for (int i = 0; i < 5; ++i) REQUIRE(f.b->issuance().issue(request("alice@op-a.example")).ok());
  auto rep = f.b->billing().verify().value();
  CHECK(rep.records == 5);
  CHECK_FALSE(rep.first_bad.has_value());
  REQUIRE(rep.chains.size() == 1);
  CHECK(rep.chains[0].chain == "main");
  CHECK(rep.chains[0].head_hash.size() == 64);
  if (backend_name == "postgresql") {
    f.pg->exec("UPDATE billing SET count = 2 WHERE seq = 3");
    rep = f.b->billing().verify().value();
    REQUIRE(rep.first_bad.has_value());
    CHECK(*rep.first_bad == 3);
    CHECK_THAT(rep.reason, Catch::Contains("hash"));
    f.pg->exec("UPDATE billing SET count = 1 WHERE seq = 3; DELETE FROM billing WHERE seq = 4");
    rep = f.b->billing().verify().value();
    REQUIRE(rep.first_bad.has_value());
    CHECK(*rep.first_bad == 5);
    CHECK(rep.bad_chain == "main");
    CHECK_THAT(rep.reason, Catch::Contains("gap"));
    return;
  }
  f.b.reset();
  raw_sql(f.db_path, "UPDATE billing SET count = 2 WHERE seq = 3");
  f.open();
  rep = f.b->billing().verify().value();
  REQUIRE(rep.first_bad.has_value());
  CHECK(*rep.first_bad == 3);
  CHECK_THAT(rep.reason, Catch::Contains("hash"));
  f.b.reset();
  raw_sql(f.db_path,
          "UPDATE billing SET count = 1 WHERE seq = 3; DELETE FROM billing WHERE seq = 4");
  f.open();
  rep = f.b->billing().verify().value();
  REQUIRE(rep.first_bad.has_value());
  CHECK(*rep.first_bad == 5);
  CHECK_THAT(rep.reason, Catch::Contains("gap"));
}

TEST_CASE("master key rotation re-encrypts every row and the old key no longer opens",
          "[storage][keys]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  const auto in = subscriber("alice@op-a.example", "001010000000001");
  REQUIRE(f.b->subscribers().add(in).ok());
  REQUIRE(f.b->subscribers().add(subscriber("bob@op-a.example", "001010000000002")).ok());
  const auto next = std::make_shared<MasterKey>(MasterKey::generate(f.dir.file("next.key")));
  CHECK(f.b->subscribers().rotate_master_key(*next).value() == 2);
  const auto v = f.b->issuance().issue(request("alice@op-a.example")).value().vectors.at(0);
  CHECK(aka::generate_quintet(in.keys, v.rand, v.sqn, in.amf).xres == v.xres);
  f.b.reset();
  CHECK_THROWS_WITH(f.open(), Catch::Contains("master key"));
  f.key = next;
  f.open();
  CHECK(f.b->issuance().issue(request("bob@op-a.example")).ok());
}

TEST_CASE("agreements: add, get, list, for_realm, state, validation", "[storage][agreements]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  Agreement a;
  a.id = "a-b-2026";
  a.peer_realms = {"op-b.example", "op-b2.example"};
  a.peer_url = "https://ag.op-b.example:8444";
  a.trust_ca_file = "/etc/oag/peers/op-b-ca.pem";
  a.price_micros = 15'000;
  a.currency = "EUR";
  auto& ag = f.b->agreements();
  REQUIRE(ag.add(a).ok());
  CHECK(ag.add(a).error().code == Errc::conflict);
  const auto got = ag.get("a-b-2026").value();
  CHECK(got.peer_realms == a.peer_realms);
  CHECK(got.price_micros == 15'000);
  CHECK(ag.for_realm("op-b2.example").value().size() == 1);
  CHECK(ag.for_realm("op-b").value().empty());  // whole realms only
  CHECK(ag.list().value().size() == 1);
  REQUIRE(ag.set_state("a-b-2026", State::revoked).ok());
  CHECK(ag.get("a-b-2026").value().state == State::revoked);
  CHECK(ag.get("nope").error().code == Errc::not_found);

  auto bad = a;
  bad.id = "x";
  bad.peer_url = "http://plain";
  CHECK(ag.add(bad).error().detail.rfind("peer_url:", 0) == 0);
  bad = a;
  bad.id = "y";
  bad.currency = "euro";
  CHECK(ag.add(bad).error().detail.rfind("currency:", 0) == 0);
  bad = a;
  bad.id = "z";
  bad.trust_ca_file.clear();
  CHECK(ag.add(bad).error().detail.rfind("trust:", 0) == 0);
  CHECK(ag.list().value().size() == 1);
}

TEST_CASE("endpoint certificates: record, list, revoke by NAI or serial", "[storage][endpoints]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  auto& ep = f.b->endpoints();
  REQUIRE(ep.record({"0a01", "alice@op-a.example", f.now + 1000, f.now, std::nullopt, ""}).ok());
  REQUIRE(
      ep.record({"0a02", "alice@op-a.example", f.now + 1000, f.now + 1, std::nullopt, ""}).ok());
  REQUIRE(ep.record({"0b01", "bob@op-a.example", f.now + 1000, f.now, std::nullopt, ""}).ok());
  CHECK(ep.record({"0b01", "bob@op-a.example", 0, 0, std::nullopt, ""}).error().code ==
        Errc::conflict);
  CHECK(ep.record({"zz", "bob@op-a.example", 0, 0, std::nullopt, ""})
            .error()
            .detail.rfind("serial:", 0) == 0);
  CHECK(ep.list("alice@op-a.example").value().size() == 2);
  CHECK(ep.list("").value().size() == 3);
  CHECK_FALSE(ep.is_revoked("0a01").value());
  CHECK(ep.revoke("alice@op-a.example", "").value() == 2);
  CHECK(ep.is_revoked("0a01").value());
  CHECK(ep.is_revoked("0a02").value());
  CHECK_FALSE(ep.is_revoked("0b01").value());
  CHECK(ep.revoke("alice@op-a.example", "").error().code == Errc::not_found);
  CHECK(ep.revoke("", "0b01").value() == 1);
  CHECK(ep.is_revoked("0b01").value());
  CHECK_FALSE(ep.is_revoked("ffff").value());  // unknown serial: not revoked here (the CA decides)
}

TEST_CASE("migrations: an older database is refused until upgraded, then keeps its data",
          "[storage][schema]") {
  test::TempDir dir;
  const auto db = dir.file("old.db");
  std::ifstream in(std::string(OAG_SOURCE_DIR) + "/storage/schema/sqlite/0001_initial.sql");
  const std::string v1((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(v1.size() > 100);
  raw_sql(db,
          v1 + "; PRAGMA user_version = 1; INSERT INTO agreements VALUES ('old', ',op-b.example,', "
               "'https://b', '/ca.pem', '', 3, 1.0, 1, 0, 'month', 0, 'EUR', 0, 0, 'active');");
  BackendConfig cfg;
  cfg.path = db;
  cfg.master_key = std::make_shared<MasterKey>(MasterKey::generate(dir.file("k")));
  CHECK(read_schema_version(cfg) == 1);
  CHECK_THROWS_WITH(open_backend(cfg), Catch::Contains("oagctl db upgrade"));
  cfg.migrate = true;
  auto b = open_backend(cfg);
  CHECK(b->schema_version() == latest_schema_version("sqlite"));
  CHECK(latest_schema_version("sqlite") >= 2);
  CHECK(b->agreements().get("old").ok());
  CHECK(b->endpoints().list("").value().empty());
  cfg.path = dir.file("absent.db");
  CHECK(read_schema_version(cfg) == 0);
}

TEST_CASE("quota per agreement and period is exact and refuses without writing",
          "[storage][quota]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(subscriber("bob@op-b.example", "001020000000001")).ok());
  const auto sold = [&](unsigned count, std::int64_t period) {
    auto r = request("bob@op-b.example", Kind::aka, count);
    r.role = Role::sold;
    r.agreement = "b-a";
    r.peer = "op-a.example";
    r.quota = 5;
    r.quota_period_start_ms = period;
    return f.b->issuance().issue(r);
  };
  CHECK(sold(3, 1000).ok());
  const auto second = sold(2, 1000);
  INFO((second.ok() ? std::string() : second.error().detail));
  CHECK(second.ok());
  const auto over = sold(1, 1000);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == Errc::quota_exhausted);
  CHECK(f.billing_count() == 2);
  CHECK(f.seq_of("bob@op-b.example") == 5);
  CHECK(sold(5, 2000).ok());  // a new period starts from zero
  CHECK(sold(1, 2000).error().code == Errc::quota_exhausted);
}

TEST_CASE("purchases are bought billing records in the chain", "[storage][billing]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  PurchaseRecord p;
  p.requester = "alice@op-a.example";
  p.subject = "bob@op-b.example";
  p.kind = Kind::sim;
  p.count = 2;
  p.agreement = "a-b";
  p.price_micros = 15'000;
  p.currency = "EUR";
  p.request_id = "0b5f3f0c-7f1a-4c53-9a55-7d7b6a0b9f01";
  p.rands = {aka::Bytes<16>{1}, aka::Bytes<16>{2}};
  p.ids = {"01a204b6-0000-7000-8000-000000000001", "01a204b6-0000-7000-8000-000000000002"};
  std::promise<Result<std::uint64_t>> done;
  f.b->issuance().record_purchase_async(
      p, [&](Result<std::uint64_t> r) { done.set_value(std::move(r)); });
  const auto seq = done.get_future().get();
  REQUIRE(seq.ok());
  const auto bill = f.billing_records();
  REQUIRE(bill.size() == 1);
  CHECK(bill[0].seq == seq.value());
  CHECK(bill[0].role == Role::bought);
  CHECK(bill[0].count == 2);
  CHECK(bill[0].subject_realm == "op-b.example");
  CHECK(bill[0].rand_sha256 == rand_digest(p.rands));
  CHECK_FALSE(f.b->billing().verify().value().first_bad.has_value());
  p.rands.pop_back();
  std::promise<Result<std::uint64_t>> bad;
  f.b->issuance().record_purchase_async(
      p, [&](Result<std::uint64_t> r) { bad.set_value(std::move(r)); });
  CHECK(bad.get_future().get().error().detail.rfind("rands:", 0) == 0);
  CHECK(f.billing_count() == 1);

  // The endpoint reports a bought vector's outcome to its own gateway: a bought result record.
  auto& iss = f.b->issuance();
  CHECK(iss.report_result(p.ids[0], "mallory@op-a.example", true).error().code == Errc::not_found);
  REQUIRE(iss.report_result(p.ids[0], "alice@op-a.example", true).ok());
  CHECK(iss.report_result(p.ids[0], "alice@op-a.example", false).error().code == Errc::conflict);
  const auto after = f.billing_records();
  REQUIRE(after.size() == 2);
  CHECK(after[1].role == Role::bought);
  CHECK(after[1].event == "result");
  CHECK(after[1].outcome == "success");
  CHECK(after[1].request_id == p.request_id);
  CHECK(after[1].rand_sha256 == rand_digest({p.rands[0]}));
}

TEST_CASE("several instances on one PostgreSQL: the quota is exact in total, a chain each",
          "[storage][postgresql][instances]") {
  test::PgDatabase pg;
  test::TempDir dir;
  auto key = std::make_shared<MasterKey>(MasterKey::generate(dir.file("master.key")));
  std::vector<std::unique_ptr<Backend>> instances;
  for (unsigned i = 0; i < 3; ++i) {
    BackendConfig c;
    c.backend = "postgresql";
    c.path = pg.conninfo();
    c.master_key = key;
    c.create = true;
    c.ind_slot = i;
    c.instance = "i" + std::to_string(i);
    instances.push_back(open_backend(c));  // three writers, three connections
  }
  REQUIRE(instances[0]->subscribers().add(subscriber("bob@op-b.example", "001020000000001")).ok());
  std::atomic<int> sold{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        auto r = request("bob@op-b.example", Kind::aka, 1 + (i % 2));
        r.role = Role::sold;
        r.agreement = "b-a";
        r.peer = "op-a.example";
        r.quota = 100;
        r.quota_period_start_ms = 1000;
        const auto res = instances[static_cast<std::size_t>(t) % 3]->issuance().issue(r);
        if (res.ok())
          sold += static_cast<int>(res.value().vectors.size());
        else if (res.error().code == Errc::quota_exhausted)
          ++refused;
        else
          ++other;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(other == 0);
  CHECK(sold <= 100);  // 270 asked for; never more than the quota in total
  CHECK(sold >= 99);   // and the quota is used up (a last request for 2 may not fit in 1)
  CHECK(refused > 0);
  CHECK(pg.scalar("SELECT used FROM quota_usage") == sold);
  CHECK(pg.scalar("SELECT count(*) FROM vectors") == sold);
  const auto rep = instances[0]->billing().verify().value();
  CHECK_FALSE(rep.first_bad.has_value());
  CHECK(rep.chains.size() == 3);
  CHECK(pg.scalar("SELECT count(DISTINCT sqn & 31) FROM vectors") == 3);
}

TEST_CASE("a schema-4 database made by the previous release upgrades and keeps every record",
          "[storage][schema]") {
  // tests/fixtures/storage: op-a's database after the demo of release 3b79a12 (enrollment,
  // local and brokered vectors, results, a purchase), its master key and its billing export.
  const std::string fixtures = std::string(OAG_SOURCE_DIR) + "/tests/fixtures/storage/";
  test::TempDir dir;
  const auto db = dir.file("old.db");
  // (`sqlite3 .dump` does not write user_version, where the schema version is kept.)
  raw_sql(db, read_all(fixtures + "sqlite_v4_op-a.sql") + "PRAGMA user_version = 4;");
  const auto key_file = dir.file("master.key");
  {
    std::ofstream(key_file, std::ios::binary) << read_all(fixtures + "sqlite_v4_op-a.master.key");
    ::chmod(key_file.c_str(), 0600);
  }
  BackendConfig cfg;
  cfg.path = db;
  cfg.master_key = std::make_shared<MasterKey>(MasterKey::load(key_file));
  CHECK(read_schema_version(cfg) == 4);
  CHECK_THROWS_WITH(open_backend(cfg), Catch::Contains("oagctl db upgrade"));
  cfg.migrate = true;
  auto b = open_backend(cfg);
  CHECK(b->schema_version() == latest_schema_version("sqlite"));
  // Every record as exported before, unchanged, in the chain "main"; the chain verifies.
  std::vector<std::string> before;
  {
    std::istringstream in(read_all(fixtures + "sqlite_v4_op-a.billing.jsonl"));
    for (std::string line; std::getline(in, line);)
      if (line.find("\"summary\"") == std::string::npos) before.push_back(line);
  }
  std::vector<BillingRecord> after;
  REQUIRE(
      b->billing()
          .for_each(0, INT64_MAX, [&](const BillingRecord& r) { return after.push_back(r), true; })
          .ok());
  REQUIRE(after.size() == before.size());
  REQUIRE(before.size() >= 10);
  for (std::size_t i = 0; i < after.size(); ++i) {
    const auto j = nlohmann::json::parse(before[i]);
    CHECK(after[i].chain == "main");
    CHECK(after[i].seq == j.at("seq").get<std::uint64_t>());
    CHECK(after[i].hash == j.at("hash").get<std::string>());
    CHECK(after[i].request_id == j.at("request_id").get<std::string>());
  }
  const auto rep = b->billing().verify().value();
  CHECK_FALSE(rep.first_bad.has_value());
  CHECK(rep.records == before.size());
  // The subscriber keeps her SEQ and her keys decrypt: the next vector continues above it.
  const auto alice = b->subscribers().get("alice@op-a.example").value();
  CHECK(alice.seq_he == 2);
  auto r = request("alice@op-a.example");
  const auto issued = b->issuance().issue(r);
  REQUIRE(issued.ok());
  CHECK(issued.value().vectors[0].sqn.seq(alice.ind_len) == 3);
  CHECK(b->billing().verify().value().chains.at(0).records == before.size() + 1);
  CHECK(b->endpoints().list("alice@op-a.example").value().size() == 1);
}

TEST_CASE("PostgreSQL over TLS when the conninfo asks: every connection encrypted, verified",
          "[storage][postgresql][tls]") {
  test::TempDir dir;
  ::chmod(dir.path().c_str(), 0755);  // as root the server runs as `postgres`
  const std::string ctl = std::string(OAG_SOURCE_DIR) + "/tests/pg/pg_server.sh ";
  const std::string server = dir.file("pg");
  REQUIRE(test::run_command(ctl + "start-tls '" + server + "'").status == 0);
  std::string conninfo;
  std::getline(std::ifstream(server + "/conninfo"), conninfo);
  REQUIRE(conninfo.find("sslmode=verify-full") != std::string::npos);
  {
    BackendConfig c;
    c.backend = "postgresql";
    c.path = conninfo;
    c.master_key = std::make_shared<MasterKey>(MasterKey::generate(dir.file("master.key")));
    c.create = true;
    auto b = open_backend(c);
    REQUIRE(b->subscribers().add(subscriber("alice@op-a.example", "001010000000001")).ok());
    REQUIRE(b->issuance().issue(request("alice@op-a.example")).ok());
    CHECK(b->subscribers().get("alice@op-a.example").ok());  // a reader connection too
    const auto out = popen_read(
        "psql '" + conninfo +
        "' -Atc \"SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_ssl s JOIN "
        "pg_stat_activity a USING (pid) WHERE a.backend_type = 'client backend'\"");
    INFO(out);
    const auto bar = out.find('|');
    REQUIRE(bar != std::string::npos);
    CHECK(std::stoi(out.substr(0, bar)) >= 3);  // the writer, a reader, psql
    CHECK(out.substr(0, bar) == out.substr(bar + 1, out.find('\n') - bar - 1));
    // The same server refuses a connection without TLS (it accepts TLS only).
    auto plain = c;
    const auto at = conninfo.find("sslmode=verify-full");
    plain.path = conninfo.substr(0, at) + "sslmode=disable";
    plain.create = false;
    CHECK_THROWS_WITH(open_backend(plain), Catch::Contains("no encryption"));
  }
  test::run_command(ctl + "stop '" + server + "'");
}

// --- the roaming login (DESIGN §7) ---

namespace {

SubscriberInput password_user(const std::string& nai) {
  SubscriberInput in;
  in.nai = nai;
  in.kinds = 0;  // no SIM: no IMSI, no keys
  return in;
}

aka::Secret<32> secret_of(std::uint8_t fill) {
  aka::Bytes<32> b;
  b.fill(fill);
  return aka::Secret<32>(b);
}

aka::Bytes<16> nonce_of(std::uint8_t fill) {
  aka::Bytes<16> b;
  b.fill(fill);
  return b;
}

LoginRecord success(const std::string& nai, const aka::Bytes<16>& n1, const std::string& serial,
                    std::int64_t now) {
  LoginRecord r;
  r.nai = nai;
  r.n1 = n1;
  r.verdict = LoginVerdict::success;
  r.cert = EndpointCert{
      serial, nai,          now + 86'400'000,
      now,    std::nullopt, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"};
  r.role = Role::sold;
  r.visited_realm = "op-b.example";
  r.agreement = "op-b";
  r.price_micros = 20'000;
  r.currency = "EUR";
  r.request_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  return r;
}

Result<LoginCommitted> commit(Backend& b, LoginRecord r) {
  std::promise<Result<LoginCommitted>> p;
  auto f = p.get_future();
  b.logins().commit_async(std::move(r),
                          [&p](Result<LoginCommitted> c) { p.set_value(std::move(c)); });
  return f.get();
}

}  // namespace

TEST_CASE("logins: a password user without a SIM, pwd_key sealed at rest", "[storage][login]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(password_user("carol@op-a.example")).ok());
  CHECK(f.b->subscribers().get("carol@op-a.example").value().imsi.empty());
  CHECK(f.b->subscribers().get("carol@op-a.example").value().kinds == 0);
  // No SIM: no vectors, and a SIM user still needs its IMSI.
  const auto issued = f.b->issuance().issue(request("carol@op-a.example"));
  REQUIRE_FALSE(issued.ok());
  CHECK(issued.error().code == Errc::not_allowed);
  auto half = password_user("dave@op-a.example");
  half.imsi = "001010000000077";
  CHECK(f.b->subscribers().add(half).error().field == "kinds");
  // Two users without a SIM do not collide on the IMSI.
  REQUIRE(f.b->subscribers().add(password_user("erin@op-a.example")).ok());

  CHECK_FALSE(f.b->logins().has_password("carol@op-a.example").value());
  const auto pk = secret_of(0x5a);
  REQUIRE(f.b->logins().set_password("carol@op-a.example", pk).ok());
  CHECK(f.b->logins().set_password("nobody@op-a.example", pk).error().code == Errc::not_found);
  CHECK(f.b->logins().has_password("carol@op-a.example").value());
  auto v = f.b->logins().view("carol@op-a.example", nonce_of(1), "", "", "");
  REQUIRE(v.ok());
  REQUIRE(v.value().pwd_key);
  CHECK(*v.value().pwd_key == pk);
  CHECK_FALSE(v.value().nonce_seen);
  CHECK(v.value().subscriber->nai == "carol@op-a.example");
  // An unknown NAI reads as no subscriber and no key.
  v = f.b->logins().view("stranger@op-a.example", nonce_of(1), "", "", "");
  REQUIRE(v.ok());
  CHECK_FALSE(v.value().subscriber);
  CHECK_FALSE(v.value().pwd_key);
  // At rest: the pwd_key's bytes are nowhere in the database file.
  if (backend_name == "sqlite") {
    f.b.reset();
    const std::string db = read_all(f.db_path) + read_all(f.db_path + "-wal");
    CHECK(db.find(std::string(32, '\x5a')) == std::string::npos);
    f.open();
  }
  // A rotation re-seals it.
  auto next = std::make_shared<MasterKey>(MasterKey::generate(f.dir.file("next.key")));
  CHECK(f.b->subscribers().rotate_master_key(*next).value() == 1);
  f.key = next;
  f.b.reset();
  f.open();
  CHECK(*f.b->logins().view("carol@op-a.example", nonce_of(1), "", "", "").value().pwd_key == pk);
  REQUIRE(f.b->logins().clear_password("carol@op-a.example").ok());
  CHECK(f.b->logins().clear_password("carol@op-a.example").error().code == Errc::not_found);
  CHECK_FALSE(f.b->logins().view("carol@op-a.example", nonce_of(1), "", "", "").value().pwd_key);
}

TEST_CASE(
    "logins: a success writes nonce and certificate and billing at once and a replay writes "
    "nothing",
    "[storage][login]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(password_user("carol@op-a.example")).ok());
  const auto before = f.billing_count();
  const auto r = commit(*f.b, success("carol@op-a.example", nonce_of(1), "0c01", f.now));
  REQUIRE(r.ok());
  CHECK(r.value().instead == LoginCommitted::Instead::nothing);
  CHECK(f.billing_count() == before + 1);
  const auto rec = f.billing_records().back();
  CHECK(rec.kind == BillingKind::login);
  CHECK(rec.role == Role::sold);
  CHECK(rec.requester_realm == "op-b.example");
  CHECK(rec.subject_realm == "op-a.example");
  CHECK(rec.unit_price_micros == 20'000);
  CHECK(rec.seq == r.value().billing_seq);
  const auto cert = f.b->endpoints().get("0c01");
  REQUIRE(cert.ok());
  CHECK(cert.value().pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(f.b->logins().view("carol@op-a.example", nonce_of(1), "", "", "").value().nonce_seen);
  // The same n1 again: nothing written, the certificate of the replay not recorded.
  const auto again = commit(*f.b, success("carol@op-a.example", nonce_of(1), "0c02", f.now));
  REQUIRE(again.ok());
  CHECK(again.value().instead == LoginCommitted::Instead::replay);
  CHECK(f.billing_count() == before + 1);
  CHECK(f.b->endpoints().get("0c02").error().code == Errc::not_found);
  // A certificate serial taken: the whole login is undone, nonce included.
  const auto clash = commit(*f.b, success("carol@op-a.example", nonce_of(2), "0c01", f.now));
  REQUIRE_FALSE(clash.ok());
  CHECK_FALSE(f.b->logins().view("carol@op-a.example", nonce_of(2), "", "", "").value().nonce_seen);
  CHECK(f.billing_count() == before + 1);
  CHECK(f.b->billing().verify().value().first_bad == std::nullopt);
}

TEST_CASE("logins: five failures in 15 minutes lock the NAI for 15 minutes, known or not",
          "[storage][login]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(password_user("carol@op-a.example")).ok());
  for (const std::string nai : {"carol@op-a.example", "Stranger@op-a.example"}) {
    for (int i = 0; i < 5; ++i) {
      LoginRecord r;
      r.nai = nai;
      r.n1 = nonce_of(static_cast<std::uint8_t>(10 + i));
      r.verdict = LoginVerdict::failure;
      const auto c = commit(*f.b, r);
      REQUIRE(c.ok());
      CHECK(c.value().now_locked == (i == 4));
      f.now += 1000;
    }
    const auto v = f.b->logins().view(nai, nonce_of(99), "", "", "").value();
    CHECK(v.failures.locked_until_ms > f.now);
    // Locked: even a right password is refused, and nothing is written.
    const auto r = commit(*f.b, success(nai, nonce_of(20), "0d01", f.now));
    REQUIRE(r.ok());
    CHECK(r.value().instead == LoginCommitted::Instead::locked);
    CHECK_FALSE(f.b->logins().view(nai, nonce_of(20), "", "", "").value().nonce_seen);
  }
  // After the lock: a success clears the count.
  f.now += kLockWindowMs + 1;
  const auto ok = commit(*f.b, success("carol@op-a.example", nonce_of(21), "0d02", f.now));
  REQUIRE(ok.ok());
  CHECK(ok.value().instead == LoginCommitted::Instead::nothing);
  CHECK(f.b->logins()
            .view("carol@op-a.example", nonce_of(99), "", "", "")
            .value()
            .failures.failures == 0);
  // Failures further apart than the window do not add up.
  for (int i = 0; i < 6; ++i) {
    LoginRecord r;
    r.nai = "carol@op-a.example";
    r.n1 = nonce_of(static_cast<std::uint8_t>(40 + i));
    r.verdict = LoginVerdict::failure;
    CHECK_FALSE(commit(*f.b, r).value().now_locked);
    f.now += kLockWindowMs / 4 + 1;
  }
}

TEST_CASE("logins: a relayed login's answer is kept sealed for the retry of the same request_id",
          "[storage][login]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  REQUIRE(f.b->subscribers().add(password_user("carol@op-a.example")).ok());
  auto r = success("carol@op-a.example", nonce_of(1), "0e01", f.now);
  r.peer = "op-b";
  r.fingerprint = "fp-1";
  r.answer = R"({"result":"ack","ks2":")" + std::string(64, '7') + "\"}";
  REQUIRE(commit(*f.b, r).ok());
  const auto before = f.billing_count();
  // The view of a retry finds the answer before anything else (its nonce is seen by now).
  auto v = f.b->logins().view("carol@op-a.example", nonce_of(1), "op-b", r.request_id, "fp-1");
  REQUIRE(v.ok());
  REQUIRE(v.value().answer);
  CHECK(*v.value().answer == r.answer);
  v = f.b->logins().view("carol@op-a.example", nonce_of(1), "op-b", r.request_id, "fp-2");
  CHECK(v.value().request_id_reused);
  // A retry that reaches the commit gets the stored answer, and bills nothing.
  auto retry = r;
  retry.cert->serial = "0e02";
  const auto c = commit(*f.b, retry);
  REQUIRE(c.ok());
  CHECK(c.value().instead == LoginCommitted::Instead::stored_answer);
  CHECK(c.value().answer == r.answer);
  CHECK(f.billing_count() == before);
  // Sealed at rest.
  if (backend_name == "sqlite") {
    f.b.reset();
    CHECK((read_all(f.db_path) + read_all(f.db_path + "-wal")).find(std::string(64, '7')) ==
          std::string::npos);
  }
}

TEST_CASE("logins: the foreign agent's session and bought record commit together",
          "[storage][login]") {
  FOR_EACH_BACKEND();
  Fixture f(backend_name);
  LoginPurchase p;
  p.session = {"5e55",
               "carol@op-a.example",
               secret_of(0x3c),
               "op-a",
               f.now,
               f.now + 86'400'000,
               "-----BEGIN CERTIFICATE-----\n"};
  p.home_realm = "op-a.example";
  p.visited_realm = "op-b.example";
  p.price_micros = 20'000;
  p.currency = "EUR";
  p.request_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
  p.n1 = nonce_of(1);
  const auto buy = [&](LoginPurchase q) {
    std::promise<Result<std::uint64_t>> pr;
    auto fu = pr.get_future();
    f.b->logins().purchase_async(std::move(q),
                                 [&pr](Result<std::uint64_t> r) { pr.set_value(std::move(r)); });
    return fu.get();
  };
  REQUIRE(buy(p).ok());
  const auto s = f.b->logins().session("5e55");
  REQUIRE(s.ok());
  CHECK(s.value().ks2 == p.session.ks2);
  CHECK(s.value().nai == "carol@op-a.example");
  CHECK(s.value().expires_ms == p.session.expires_ms);
  CHECK(s.value().certificate == p.session.certificate);
  CHECK(f.b->logins().session("nope").error().code == Errc::not_found);
  const auto rec = f.billing_records().back();
  CHECK(rec.role == Role::bought);
  CHECK(rec.kind == BillingKind::login);
  CHECK(rec.request_id == p.request_id);
  CHECK(rec.subject_realm == "op-a.example");
  CHECK(rec.requester_realm == "op-b.example");
  const auto n = f.billing_count();
  CHECK(buy(p).error().code == Errc::conflict);  // the same session id: nothing written
  CHECK(f.billing_count() == n);
  if (backend_name == "sqlite") {
    f.b.reset();
    CHECK((read_all(f.db_path) + read_all(f.db_path + "-wal")).find(std::string(32, '\x3c')) ==
          std::string::npos);
  }
}

TEST_CASE("billing: a record's detail is hashed when present and older records keep their hashes",
          "[storage][login]") {
  BillingRecord b;
  b.seq = 1;
  b.kind = BillingKind::charge;
  const std::string without = canonical(b);
  CHECK(without.find("detail") == std::string::npos);
  b.detail = R"({"order_id":"o-1"})";
  CHECK(canonical(b).find(R"("detail":"{\"order_id\":\"o-1\"}")") != std::string::npos);
  CHECK(chain_hash(kGenesisHash, b) != [&] {
    auto c = b;
    c.detail.clear();
    return chain_hash(kGenesisHash, c);
  }());
}
