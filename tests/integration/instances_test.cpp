// Several oagd on one PostgreSQL (DESIGN §10), with real processes and a real server: two
// instances (IND 0 and 1) issuing for the same subscribers at once, and the database restarted
// under load.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/integration/gateway_process.hpp"
#include "tests/unit/support/postgres.hpp"

using namespace oag;
using oag::test::Gateway;
using oag::test::shell_quote;
using json = nlohmann::json;

namespace {

std::string pg_instance(const std::string& conninfo, const std::string& instance) {
  return "--store " + shell_quote(conninfo) + " --instance " + instance;
}

void as_instance(json& c, const std::string& name, unsigned ind) {
  c["store"]["instance"] = name;
  c["store"]["ind_slot"] = ind;
}

}  // namespace

TEST_CASE(
    "two instances on one PostgreSQL: no SQN or RAND twice, every answer billed, a chain each",
    "[oagd][instances][postgresql]") {
  test::PgDatabase pg;
  Gateway a(
      "op-a.example", {"alice", "dave"}, 60000, [](json& c) { as_instance(c, "i0", 0); }, OAGD_PATH,
      pg_instance(pg.conninfo(), "i0"));
  Gateway b(a, [](json& c) { as_instance(c, "i1", 1); });

  std::mutex mu;
  std::set<std::string> rands, ids;
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      auto c = (t % 2 ? b : a).client("alice@op-a.example");
      for (int i = 0; i < 40; ++i) {
        const bool sim = i % 4 == 3;
        const auto r = c->request("POST", "/v1/vectors",
                                  sim ? R"({"nai":"dave@op-a.example","kind":"sim","count":2})"
                                      : R"({"nai":"alice@op-a.example","kind":"aka","count":2})");
        if (r.status != 200) {
          ++failed;
          continue;
        }
        ++answered;
        std::lock_guard lk(mu);
        const auto body = json::parse(r.body);
        for (const auto& v : body.at("vectors")) {
          rands.insert(v.at("rand").get<std::string>());
          ids.insert(v.at("id").get<std::string>());
        }
      }
    });
  for (auto& th : threads) th.join();
  INFO(a.log() << b.log());
  CHECK(failed == 0);
  REQUIRE(answered == 160);
  CHECK(rands.size() == 320);  // no RAND twice
  CHECK(ids.size() == 320);
  CHECK(pg.scalar("SELECT count(*) FROM vectors") == 320);
  CHECK(pg.scalar("SELECT count(*) FROM (SELECT 1 FROM vectors WHERE sqn IS NOT NULL GROUP BY "
                  "subscriber_id, sqn HAVING count(*) > 1) d") == 0);
  // Each instance drew from its own IND slot (IND length 5), and each slot has its own row.
  CHECK(pg.scalar("SELECT count(DISTINCT sqn & 31) FROM vectors WHERE sqn IS NOT NULL") == 2);
  CHECK(pg.scalar("SELECT count(*) FROM vectors WHERE sqn IS NOT NULL AND sqn & 31 > 1") == 0);
  CHECK(pg.scalar("SELECT count(*) FROM sqn_slots") == 2);
  const auto v = a.ctl_json("billing verify");
  CHECK(v.at("ok") == true);
  CHECK(v.at("records") == 160);
  REQUIRE(v.at("chains").size() == 2);
  CHECK(v.at("chains")[0].at("chain") == "i0");
  CHECK(v.at("chains")[1].at("chain") == "i1");
  CHECK(v.at("chains")[0].at("records").get<int>() + v.at("chains")[1].at("records").get<int>() ==
        160);
  CHECK(v.at("chains")[0].at("records").get<int>() > 0);
  CHECK(v.at("chains")[1].at("records").get<int>() > 0);
}

TEST_CASE("PostgreSQL restarted under load: 503 while it is down, answers after, nothing lost",
          "[oagd][instances][postgresql]") {
  test::TempDir server;
  ::chmod(server.path().c_str(), 0755);  // as root the server runs as `postgres`
  const std::string ctl = std::string(OAG_SOURCE_DIR) + "/tests/pg/pg_server.sh ";
  const std::string dir = shell_quote(server.file("pg"));
  REQUIRE(test::run_command(ctl + "start " + dir).status == 0);
  std::string conninfo;
  std::getline(std::ifstream(server.file("pg") + "/conninfo"), conninfo);
  {
    Gateway a("op-a.example", {"alice"}, 60000, {}, OAGD_PATH, pg_instance(conninfo, "main"));
    std::atomic<bool> stop{false};
    std::atomic<int> ok{0}, unavailable{0}, other{0};
    std::thread load([&] {
      auto c = a.client("alice@op-a.example");
      while (!stop) {
        const auto r = c->request("POST", "/v1/vectors",
                                  R"({"nai":"alice@op-a.example","kind":"aka","count":1})");
        if (r.status == 200)
          ++ok;
        else if (r.status == 503)
          ++unavailable;
        else
          ++other;
        if (r.status == 0) c = a.client("alice@op-a.example");
      }
    });
    const auto wait_for = [](const std::function<bool()>& cond) {
      for (int i = 0; i < 3000 && !cond(); ++i) usleep(10'000);
      return cond();
    };
    REQUIRE(wait_for([&] { return ok >= 50; }));
    REQUIRE(test::run_command(ctl + "down " + dir).status == 0);
    CHECK(wait_for([&] { return unavailable >= 20; }));
    const int ok_while_down = ok;  // nothing is answered 200 while the server is down
    CHECK(wait_for([&] { return unavailable >= 60; }));
    CHECK(ok == ok_while_down);
    REQUIRE(test::run_command(ctl + "up " + dir).status == 0);
    const int ok_at_up = ok;
    CHECK(wait_for([&] { return ok >= ok_at_up + 50; }));
    stop = true;
    load.join();
    INFO(a.log());
    CHECK(other == 0);
    WARN("PostgreSQL restart: " << ok << " answered, " << unavailable << " answered 503");
    // Every answered request has its billing record; nothing answered is missing.
    const auto v = a.ctl_json("billing verify");
    CHECK(v.at("ok") == true);
    CHECK(v.at("records").get<int>() >= ok.load());
  }
  test::run_command(ctl + "stop " + dir);
}
