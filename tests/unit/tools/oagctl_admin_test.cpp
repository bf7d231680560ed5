// oagctl's administrative verbs as a real process against a real database: init, subscribers,
// agreements, endpoint certificates, billing export/verify/reconcile, schema upgrade.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>

#include "proto/aka/hex.hpp"
#include "proto/aka/milenage.hpp"
#include "storage/store.hpp"
#include "tests/unit/support/process.hpp"
#include "tests/unit/support/temp_dir.hpp"
#include "tests/unit/support/vectors.hpp"

using namespace oag;
using nlohmann::json;
using test::shell_quote;

namespace {

const std::string kK = "465b5ce8b199b49faa5f0a2ee238a6bc";
const std::string kOp = "cdc202d5123e20f62b6d676ac72cb318";

struct Operator {
  explicit Operator(const std::string& realm_name) : realm(realm_name) {
    const auto r = run("init --realm " + realm + " --dir " + shell_quote(dir.path().string()));
    INFO(r.err);
    REQUIRE(r.status == 0);
  }
  test::RunResult run(const std::string& args) const {
    return test::run_command(std::string(OAGCTL_PATH) + " " + args);
  }
  // With this operator's --config.
  test::RunResult ctl(const std::string& args) const {
    return run("--config " + config() + " " + args);
  }
  std::string config() const { return shell_quote(dir.file("oagd.json")); }
  std::unique_ptr<storage::Backend> open() const {
    storage::BackendConfig cfg;
    cfg.path = dir.file("oag.db");
    cfg.master_key =
        std::make_shared<storage::MasterKey>(storage::MasterKey::load(dir.file("master.key")));
    return storage::open_backend(cfg);
  }
  std::string realm;
  test::TempDir dir;
};

std::string read_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned mode_of(const std::string& p) {
  struct stat st {};
  stat(p.c_str(), &st);
  return st.st_mode & 0777;
}

void expect_usage(const test::RunResult& r, const std::string& names) {
  INFO("stderr: " << r.err);
  CHECK(r.status == 2);
  CHECK(r.err.find(names) != std::string::npos);
}

}  // namespace

TEST_CASE("init writes database, master key and PKI with safe modes and never overwrites",
          "[oagctl][init]") {
  Operator a("op-a.example");
  const auto& d = a.dir;
  CHECK(mode_of(d.file("master.key")) == 0600);
  CHECK(mode_of(d.file("oag.db")) == 0600);
  for (const char* k : {"endpoint-ca.key", "federation-ca.key", "server.key", "federation.key"})
    CHECK(mode_of(d.file(k)) == 0600);
  CHECK(mode_of(d.file("server.pem")) == 0644);
  const auto conf = json::parse(read_file(d.file("oagd.json")));
  CHECK(conf.at("realm") == "op-a.example");
  CHECK(conf.at("store").at("path") == d.file("oag.db"));

  const auto key_before = read_file(d.file("master.key"));
  const auto again = a.run("init --realm op-a.example --dir " + shell_quote(d.path().string()));
  CHECK(again.status == 1);
  CHECK(again.err.find("--force") != std::string::npos);
  CHECK(read_file(d.file("master.key")) == key_before);
  CHECK(a.run("init --realm op-a.example --dir " + shell_quote(d.path().string()) + " --force")
            .status == 0);
  CHECK(read_file(d.file("master.key")) != key_before);

  expect_usage(a.run("init --realm 'bad realm' --dir " + shell_quote(d.file("x"))), "--realm");
  expect_usage(a.run("init --dir /tmp/nowhere"), "--realm");
}

TEST_CASE("init --user gives the daemon its files and keeps the root CA keys root's",
          "[oagctl][init]") {
  // The packages' layout in small: configuration in one directory, the database in another
  // (the unit's StateDirectory), given to an account that exists on every Debian system.
  test::TempDir d;
  const auto conf = d.file("etc");
  const auto db = d.file("state") + "/oag.db";
  const auto r = test::run_command(std::string(OAGCTL_PATH) +
                                   " init --realm op-a.example --user nobody --dir " +
                                   shell_quote(conf) + " --db " + shell_quote(db));
  if (::geteuid() != 0) {
    // Only root can give files away: refused before anything is written.
    expect_usage(r, "--user");
    CHECK(!std::filesystem::exists(conf));
    return;
  }
  INFO(r.err);
  REQUIRE(r.status == 0);
  const passwd* nobody = ::getpwnam("nobody");
  REQUIRE(nobody);
  struct stat st {};
  const auto owner = [&](const std::string& p) {
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return std::make_tuple(st.st_uid, st.st_gid, st.st_mode & 0777);
  };
  const auto root_group = [&](unsigned mode) {
    return std::make_tuple(uid_t{0}, nobody->pw_gid, mode);
  };
  CHECK(owner(conf) == root_group(0750));
  CHECK(owner(conf + "/master.key") == std::make_tuple(nobody->pw_uid, nobody->pw_gid, 0600u));
  for (const char* f :
       {"oagd.json", "server.key", "federation.key", "issuing-ca.key", "login.key"}) {
    INFO(f);
    CHECK(owner(conf + "/" + f) == root_group(0640));
  }
  for (const char* f : {"endpoint-ca.key", "federation-ca.key"}) {
    INFO(f);
    CHECK(owner(conf + "/" + f) == std::make_tuple(uid_t{0}, gid_t{0}, 0600u));
  }
  CHECK(owner(d.file("state")) == std::make_tuple(nobody->pw_uid, nobody->pw_gid, 0750u));
  CHECK(owner(db) == std::make_tuple(nobody->pw_uid, nobody->pw_gid, 0600u));
  expect_usage(test::run_command(std::string(OAGCTL_PATH) +
                                 " init --realm op-b.example --user no-such-account --dir " +
                                 shell_quote(d.file("other"))),
               "--user: no such user");
  CHECK(!std::filesystem::exists(d.file("other")));
}

TEST_CASE("subscriber verbs: add, show (no keys), list, set, disable, enable, delete",
          "[oagctl][subscriber]") {
  Operator a("op-a.example");
  auto r = a.ctl("subscriber add --nai alice@op-a.example --imsi 001010000000001 --k " + kK +
                 " --op " + kOp);
  INFO(r.err);
  REQUIRE(r.status == 0);
  r = a.ctl("--json subscriber show --nai alice@op-a.example");
  REQUIRE(r.status == 0);
  const auto j = json::parse(r.out);
  CHECK(j.at("imsi") == "001010000000001");
  CHECK(j.at("state") == "active");
  CHECK_FALSE(j.contains("k"));
  CHECK_FALSE(j.contains("opc"));
  CHECK(r.out.find(kK) == std::string::npos);
  CHECK(r.out.find("cd63cb71954a9f4e48a5994e37a02baf") == std::string::npos);  // OPc

  CHECK(a.ctl("subscriber add --nai alice@op-a.example --imsi 001010000000002 --k " + kK +
              " --op " + kOp)
            .status == 1);
  CHECK(a.ctl("subscriber set --nai alice@op-a.example --sqn 77").status == 0);
  CHECK(json::parse(a.ctl("--json subscriber show --nai alice@op-a.example").out).at("sqn") == 77);
  CHECK(a.ctl("subscriber disable --nai alice@op-a.example").status == 0);
  CHECK(json::parse(a.ctl("--json subscriber show --nai alice@op-a.example").out).at("state") ==
        "suspended");
  CHECK(a.ctl("subscriber enable --nai alice@op-a.example").status == 0);
  CHECK(json::parse(a.ctl("--json subscriber list").out).size() == 1);
  CHECK(a.ctl("subscriber delete --nai alice@op-a.example").status == 0);
  const auto gone = a.ctl("subscriber show --nai alice@op-a.example");
  CHECK(gone.status == 1);
  CHECK(gone.err.find("not-found") != std::string::npos);

  const std::string base = "subscriber add --nai bob@op-a.example --imsi 001010000000003 ";
  expect_usage(a.ctl(base + "--k zz" + kK.substr(2) + " --op " + kOp), "--k");
  expect_usage(a.ctl(base + "--k " + kK + " --op 00"), "--op");
  expect_usage(a.ctl(base + "--k " + kK), "--opc");
  expect_usage(a.ctl(base + "--k " + kK + " --op " + kOp + " --kinds gsm"), "--kinds");
  expect_usage(a.ctl(base + "--k " + kK + " --op " + kOp + " --sqn x1"), "--sqn");
  expect_usage(a.ctl(base + "--k " + kK + " --op " + kOp + " --ind-len 12"), "--ind-len");
  expect_usage(a.ctl("subscriber add --nai bob@op-a.example --imsi 12 --k " + kK + " --op " + kOp),
               "--imsi");
  expect_usage(a.ctl("subscriber add --nai bob --imsi 001010000000003 --k " + kK + " --op " + kOp),
               "--nai");
  expect_usage(a.ctl("subscriber show"), "--nai");
  CHECK(json::parse(a.ctl("--json subscriber list").out).empty());  // nothing written by bad input
}

TEST_CASE("subscriber import: all or nothing with line and field, --skip-bad, 1000 rows",
          "[oagctl][subscriber]") {
  Operator a("op-a.example");
  const auto csv = a.dir.file("subs.csv");
  {
    std::ofstream out(csv);
    out << "nai,imsi,k,op,sqn\n";
    for (int i = 0; i < 1000; ++i)
      out << "u" << i << "@op-a.example,00101" << 1000000000 + i << "," << kK << "," << kOp
          << ",5\n";
  }
  auto r = a.ctl("subscriber import " + shell_quote(csv));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(json::parse(a.ctl("--json subscriber show --nai u999@op-a.example").out).at("sqn") == 5);

  const auto bad = a.dir.file("bad.csv");
  {
    std::ofstream out(bad);
    out << "nai,imsi,k,opc\n"
        << "x@op-a.example,001020000000001," << kK << ",cd63cb71954a9f4e48a5994e37a02baf\n"  // good
        << "y@op-a.example,001020000000002,zz,cd63cb71954a9f4e48a5994e37a02baf\n"  // line 3: k
        << "z@op-a.example,001020000000003," << kK << "\n"                         // line 4: fields
        << "u5@op-a.example,001020000000004," << kK
        << ",cd63cb71954a9f4e48a5994e37a02baf\n";  // line 5: exists
  }
  r = a.ctl("subscriber import " + shell_quote(bad));
  CHECK(r.status == 1);
  CHECK(r.err.find("line 3, field k") != std::string::npos);
  CHECK(r.err.find("line 4") != std::string::npos);
  CHECK(a.ctl("subscriber show --nai x@op-a.example").status == 1);  // nothing imported
  r = a.ctl("--json subscriber import --skip-bad " + shell_quote(bad));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto j = json::parse(r.out);
  CHECK(j.at("imported") == 1);
  CHECK(j.at("skipped") == 3);
  CHECK(j.at("skipped_lines").dump().find("line 5") != std::string::npos);
  CHECK(a.ctl("subscriber show --nai x@op-a.example").status == 0);

  {
    std::ofstream out(bad);
    out << "nai,imsi,k,colour\n";
  }
  r = a.ctl("subscriber import " + shell_quote(bad));
  CHECK(r.status == 1);
  CHECK(r.err.find("colour") != std::string::npos);
  expect_usage(a.ctl("subscriber import /nonexistent.csv"), "FILE");

  // A field in double quotes may hold commas (as a spreadsheet writes a list of kinds); a quote
  // left open is an error naming its line.
  {
    std::ofstream out(bad);
    out << "nai,imsi,k,op,kinds\n"
        << "q1@op-a.example,001030000000001," << kK << "," << kOp << ",\"aka,sim\"\n"
        << "q2@op-a.example,001030000000002," << kK << "," << kOp << ",\"aka\n";
  }
  r = a.ctl("subscriber import " + shell_quote(bad));
  CHECK(r.status == 1);
  CHECK(r.err.find("line 3: a quoted field is not closed") != std::string::npos);
  REQUIRE(a.ctl("subscriber import --skip-bad " + shell_quote(bad)).status == 0);
  CHECK(json::parse(a.ctl("--json subscriber show --nai q1@op-a.example").out).at("kinds") ==
        "sim,aka");
}

TEST_CASE("agreement verbs: add, list, show, suspend, resume, revoke (final), bad input",
          "[oagctl][agreement]") {
  Operator a("op-a.example");
  const std::string add =
      "agreement add --id a-b --realm op-b.example --url https://ag.op-b.example:8444 --ca-file "
      "/x.pem ";
  auto r = a.ctl(add +
                 "--price 0.015 --currency EUR --quota 1000 --period day --valid-until 2030-01-01");
  INFO(r.err);
  REQUIRE(r.status == 0);
  auto j = json::parse(a.ctl("--json agreement show --id a-b").out);
  CHECK(j.at("price") == "0.015");
  CHECK(j.at("quota") == 1000);
  CHECK(j.at("valid_until") == "2030-01-01T00:00:00.000Z");
  CHECK(a.ctl(add).status == 1);  // id taken
  CHECK(a.ctl("agreement suspend --id a-b").status == 0);
  CHECK(json::parse(a.ctl("--json agreement show --id a-b").out).at("state") == "suspended");
  CHECK(a.ctl("agreement resume --id a-b").status == 0);
  CHECK(a.ctl("agreement revoke --id a-b").status == 0);
  r = a.ctl("agreement resume --id a-b");
  CHECK(r.status == 1);
  CHECK(r.err.find("final") != std::string::npos);
  CHECK(json::parse(a.ctl("--json agreement list").out).size() == 1);
  CHECK(a.ctl("agreement show --id nope").status == 1);

  const std::string add2 = "agreement add --id a-c --realm op-c.example --ca-file /x.pem ";
  expect_usage(a.ctl(add2 + "--url http://plain"), "--url");
  expect_usage(a.ctl(add2 + "--url https://c --currency euro"), "--currency");
  expect_usage(a.ctl(add2 + "--url https://c --price 1.2345678"), "--price");
  expect_usage(a.ctl(add2 + "--url https://c --kinds gsm"), "--kinds");
  expect_usage(a.ctl(add2 + "--url https://c --valid-until 2030-13-01"), "--valid-until");
  expect_usage(a.ctl("agreement add --id a-c --realm op-c.example --url https://c"),
               "--ca-file/--spki-pin");
  expect_usage(a.ctl("agreement add --id a-c --url https://c --ca-file /x.pem"), "--realm");
  CHECK(json::parse(a.ctl("--json agreement list").out).size() == 1);
}

TEST_CASE("endpoint issue-cert: SAN URI sip:NAI chained to the endpoint CA and revoke marks it",
          "[oagctl][endpoint]") {
  Operator a("op-a.example");
  REQUIRE(a.ctl("subscriber add --nai alice@op-a.example --imsi 001010000000001 --k " + kK +
                " --op " + kOp)
              .status == 0);
  const auto out_dir = a.dir.file("certs");
  auto r = a.ctl("--json endpoint issue-cert --nai alice@op-a.example --out-dir " +
                 shell_quote(out_dir));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto serial = json::parse(r.out).at("serial").get<std::string>();
  CHECK(mode_of(out_dir + "/alice@op-a.example.key") == 0600);

  FILE* f = std::fopen((out_dir + "/alice@op-a.example.pem").c_str(), "r");
  REQUIRE(f != nullptr);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  f = std::fopen(a.dir.file("endpoint-ca.pem").c_str(), "r");
  X509* ca = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  REQUIRE(cert != nullptr);
  REQUIRE(ca != nullptr);
  CHECK(X509_verify(cert, X509_get0_pubkey(ca)) == 1);
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  REQUIRE(sans != nullptr);
  REQUIRE(sk_GENERAL_NAME_num(sans) == 1);
  const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, 0);
  REQUIRE(gn->type == GEN_URI);
  CHECK(std::string(reinterpret_cast<const char*>(
            ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier))) == "sip:alice@op-a.example");
  GENERAL_NAMES_free(sans);
  X509_free(cert);
  X509_free(ca);

  CHECK(a.ctl("endpoint issue-cert --nai nobody@op-a.example --out-dir " + shell_quote(out_dir))
            .status == 1);
  expect_usage(
      a.ctl("endpoint issue-cert --nai bob@op-b.example --out-dir " + shell_quote(out_dir)),
      "--nai");
  expect_usage(a.run("--db " + shell_quote(a.dir.file("oag.db")) + " --master-key " +
                     shell_quote(a.dir.file("master.key")) +
                     " endpoint issue-cert --nai alice@op-a.example"),
               "--config");
  CHECK(a.ctl("endpoint issue-cert --nai alice@op-a.example --out-dir " + shell_quote(out_dir))
            .status == 1);  // exists

  CHECK_FALSE(a.open()->endpoints().is_revoked(serial).value());
  r = a.ctl("endpoint revoke --nai alice@op-a.example");
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(a.open()->endpoints().is_revoked(serial).value());
  CHECK(json::parse(a.ctl("--json endpoint list --nai alice@op-a.example").out)
            .at(0)
            .at("revoked")
            .is_string());
  CHECK(a.ctl("endpoint revoke --nai alice@op-a.example").status == 1);  // nothing left to revoke
  expect_usage(a.ctl("endpoint revoke"), "--nai or --serial");
}

TEST_CASE(
    "billing round trip: two operators, export csv/jsonl, verify, reconcile, differences found",
    "[oagctl][billing]") {
  Operator a("op-a.example");
  Operator b("op-b.example");
  REQUIRE(b.ctl("subscriber add --nai bob@op-b.example --imsi 001020000000001 --k " + kK +
                " --op " + kOp)
              .status == 0);
  {
    // The federation flow's two halves, through the same store code oagd uses: op-b sells
    // vectors of bob to op-a (role sold), op-a records what it bought under the same request_id.
    auto sb = b.open();
    for (int i = 0; i < 5; ++i) {
      storage::IssueRequest sold;
      sold.subject = "bob@op-b.example";
      sold.kind = i % 2 ? storage::Kind::sim : storage::Kind::aka;
      sold.count = 1 + i % 2;
      sold.requester = "alice@op-a.example";
      sold.request_id = "fed-" + std::to_string(i);
      sold.role = storage::Role::sold;
      sold.peer = "op-a.example";
      sold.agreement = "b-a";
      sold.price_micros = 15'000;
      sold.currency = "EUR";
      REQUIRE(sb->issuance().issue(sold).ok());
    }
  }
  auto r = b.ctl("billing export --format jsonl --role sold --output " +
                 shell_quote(b.dir.file("sold.jsonl")));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const auto sold = read_file(b.dir.file("sold.jsonl"));
  CHECK(sold.find("\"summary\"") != std::string::npos);
  CHECK(sold.find(kK) == std::string::npos);

  r = b.ctl("billing export --format csv");
  REQUIRE(r.status == 0);
  CHECK(r.out.rfind("seq,time,role", 0) == 0);
  CHECK(r.out.find("#summary,records=5") != std::string::npos);
  CHECK(r.out.find("total_EUR=0.105") != std::string::npos);  // (1+2+1+2+1) × 0.015
  const auto csv_file = b.dir.file("all.csv");
  std::ofstream(csv_file) << r.out;

  r = b.ctl("--json billing verify");
  REQUIRE(r.status == 0);
  CHECK(json::parse(r.out).at("records") == 5);

  // Our side: op-a's "bought" export. The broker path that writes those records comes with the
  // federation issue; until then the export is written here in the format oagctl exports.
  std::string ours =
      "seq,time,role,event,requester,subject,requester_realm,subject_realm,agreement,kind,count,"
      "unit_price,currency,request_id,rand_sha256,outcome,prev_hash,hash\n";
  for (int i = 0; i < 5; ++i)
    ours += std::to_string(i + 1) +
            ",2026-11-22T10:00:00.000Z,bought,issue,alice@op-a.example,bob@op-b.example,"
            "op-a.example,op-b.example,a-b," +
            std::string(i % 2 ? "sim" : "aka") + "," + std::to_string(1 + i % 2) +
            ",0.015,EUR,fed-" + std::to_string(i) + ",x,issued,y,z\n";
  const auto ours_file = a.dir.file("ours.csv");
  std::ofstream(ours_file) << ours;
  r = a.ctl("--json billing reconcile " + shell_quote(ours_file) + " " +
            shell_quote(b.dir.file("sold.jsonl")));
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(json::parse(r.out).at("matched") == 5);
  CHECK(a.ctl("billing reconcile " + shell_quote(ours_file) + " " + shell_quote(csv_file)).status ==
        0);

  // A record they sold that we never bought (we died before our commit): unconfirmed, named,
  // not a difference.
  std::string short_of_one = ours.substr(0, ours.rfind("4,2026-11-22"));
  std::ofstream(ours_file) << short_of_one;
  r = a.ctl("--json billing reconcile " + shell_quote(ours_file) + " " +
            shell_quote(b.dir.file("sold.jsonl")));
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  {
    const auto u = json::parse(r.out);
    CHECK(u.at("matched") == 3);
    CHECK(u.at("ok") == true);
    REQUIRE(u.at("unconfirmed").size() == 2);
    CHECK(u.at("unconfirmed").at(0).at("sold_by") == "theirs");
  }
  r = a.ctl("billing reconcile " + shell_quote(ours_file) + " " +
            shell_quote(b.dir.file("sold.jsonl")));
  CHECK(r.out.find("2 unconfirmed") != std::string::npos);
  CHECK(r.out.find("unconfirmed: fed-4 sold by theirs") != std::string::npos);

  // A price that differs and a record they do not have.
  std::string tampered = ours;
  tampered.replace(tampered.find(",0.015,EUR,fed-3"), 16, ",0.020,EUR,fed-3");
  tampered +=
      "6,2026-11-22T10:00:00.000Z,bought,issue,alice@op-a.example,bob@op-b.example,op-a.example,"
      "op-b.example,a-b,aka,1,0.015,EUR,fed-9,x,issued,y,z\n";
  std::ofstream(ours_file) << tampered;
  r = a.ctl("--json billing reconcile " + shell_quote(ours_file) + " " +
            shell_quote(b.dir.file("sold.jsonl")));
  CHECK(r.status == 1);
  const auto rep = json::parse(r.out);
  CHECK(rep.at("mismatched").size() == 1);
  CHECK(rep.at("mismatched").at(0).at("field") == "unit_price");
  CHECK(rep.at("missing_in_theirs").size() == 1);
  CHECK(rep.at("missing_in_theirs").at(0).at("request_id") == "fed-9");
  expect_usage(a.ctl("billing reconcile /nope.csv " + shell_quote(ours_file)), "OURS");

  // A tampered database fails verify with exit 1 and names the record.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(b.dir.file("oag.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE billing SET unit_price_micros = 1 WHERE seq = 2", nullptr,
                       nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  r = b.ctl("billing verify");
  CHECK(r.status == 1);
  CHECK(r.out.find("record 2") != std::string::npos);
  expect_usage(b.ctl("billing export --from 2026-02-30x"), "--from");
  // Before the epoch (the billing fuzzer's find: a record from 1026 was read, then written back
  // with a negative millisecond part that nothing reads).
  auto early = b.ctl("billing export --from 1969-12-31T23:59:59Z");
  CHECK(early.status == 2);
  CHECK(early.err.find("--from: before 1970") != std::string::npos);
  early = b.ctl("billing export --from 1970-01-01T00:30:00+01:00");
  CHECK(early.err.find("--from: before 1970") != std::string::npos);
  expect_usage(b.ctl("billing export --role buyer"), "--role");
}

TEST_CASE("db version and upgrade and global options are checked", "[oagctl][db]") {
  test::TempDir dir;
  const auto db = dir.file("old.db");
  std::ifstream in(std::string(OAG_SOURCE_DIR) + "/storage/schema/sqlite/0001_initial.sql");
  const std::string v1((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  REQUIRE(sqlite3_exec(h, (v1 + "; PRAGMA user_version = 1;").c_str(), nullptr, nullptr, nullptr) ==
          SQLITE_OK);
  sqlite3_close(h);
  storage::MasterKey::generate(dir.file("k"));
  const std::string g = std::string(OAGCTL_PATH) + " --db " + shell_quote(db) + " --master-key " +
                        shell_quote(dir.file("k"));
  auto r = test::run_command(g + " --json db version");
  REQUIRE(r.status == 0);
  CHECK(json::parse(r.out).at("database") == 1);
  CHECK(json::parse(r.out).at("up_to_date") == false);
  r = test::run_command(g + " subscriber list");
  CHECK(r.status == 1);
  CHECK(r.err.find("db upgrade") != std::string::npos);
  r = test::run_command(g + " --json db upgrade");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(json::parse(r.out).at("to") == storage::latest_schema_version("sqlite"));
  CHECK(test::run_command(g + " subscriber list").status == 0);

  expect_usage(
      test::run_command(std::string(OAGCTL_PATH) + " --db " + shell_quote(db) + " subscriber list"),
      "--master-key");
  expect_usage(test::run_command(std::string(OAGCTL_PATH) + " subscriber list"), "--db");
  expect_usage(test::run_command(std::string(OAGCTL_PATH) + " --config /nope.json subscriber list"),
               "--config");
  for (const char* help :
       {"--help", "subscriber --help", "agreement add --help", "billing export --help", "db --help",
        "endpoint issue-cert --help", "init --help"})
    CHECK(test::run_command(std::string(OAGCTL_PATH) + " " + help).status == 0);
  chmod(dir.file("k").c_str(), 0644);
  r = test::run_command(g + " subscriber list");
  CHECK(r.status == 1);
  CHECK(r.err.find("0600") != std::string::npos);
}

TEST_CASE(
    "passwords: from a file or the terminal and never argv with length and deny list and only the "
    "sealed pwd_key stored and the home profile",
    "[oagctl][login]") {
  Operator a("op-a.example");
  REQUIRE(a.ctl("subscriber add --nai carol@op-a.example --no-sim").status == 0);
  expect_usage(a.ctl("subscriber add --nai dave@op-a.example --no-sim --imsi 001010000000009"),
               "--imsi");
  const auto pw = [&](const std::string& name, const std::string& text) {
    const auto f = a.dir.file(name);
    std::ofstream(f) << text << "\n";
    return shell_quote(f);
  };
  const std::string set = "subscriber set-password --nai carol@op-a.example --password-file ";
  expect_usage(a.ctl(set + pw("short", "too short")), "password: at least 10 characters");
  const auto deny = pw("deny", "Password1234\ncorrect horse battery");
  expect_usage(a.ctl(set + pw("denied", "CORRECT horse battery") + " --deny-list " + deny),
               "deny list");
  // No file and no terminal: the error names the argument that is missing.
  expect_usage(test::run_command("setsid " + std::string(OAGCTL_PATH) + " --config " + a.config() +
                                 " subscriber set-password --nai carol@op-a.example "
                                 "</dev/null"),
               "--password-file");
  // There is no way to give it as an argument.
  CHECK(
      a.ctl("subscriber set-password --nai carol@op-a.example --password 'correct horse'").status ==
      2);
  const std::string secret = "a long enough passphrase";
  const auto ok = a.ctl(set + pw("good", secret) + " --deny-list " + deny);
  INFO(ok.err);
  REQUIRE(ok.status == 0);
  CHECK(a.ctl(set + pw("nobody", secret)).status == 0);  // (the same user again: replaced)
  CHECK(
      a.ctl("subscriber set-password --nai nobody@op-a.example --password-file " + pw("x", secret))
          .status != 0);
  // Stored: neither the password nor pwd_key (scrypt of it) in the database file.
  const std::string db = read_file(a.dir.file("oag.db")) + read_file(a.dir.file("oag.db-wal"));
  CHECK(db.find(secret) == std::string::npos);
  unsigned char pk[32];
  const std::string salt = "oag1 pwd carol@op-a.example";
  REQUIRE(EVP_PBE_scrypt(secret.data(), secret.size(),
                         reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), 1u << 15,
                         8, 1, 64u << 20, pk, 32) == 1);
  CHECK(db.find(std::string(reinterpret_cast<char*>(pk), 32)) == std::string::npos);
  CHECK(db.find(aka::to_hex(aka::ByteView(pk, 32))) == std::string::npos);
  // The home profile: the login public key is the login key's (as openssl derives it).
  const auto out = a.dir.file("carol.json");
  REQUIRE(a.ctl("subscriber profile --nai carol@op-a.example --out " + shell_quote(out)).status ==
          0);
  const auto p = json::parse(read_file(out));
  CHECK(p.at("nai") == "carol@op-a.example");
  CHECK(p.at("home_realm") == "op-a.example");
  CHECK(p.at("user_ca") == read_file(a.dir.file("endpoint-ca.pem")));
  CHECK(mode_of(a.dir.file("login.key")) == 0600);
  const auto der = test::run_command("openssl pkey -in " + shell_quote(a.dir.file("login.key")) +
                                     " -pubout -outform DER");
  REQUIRE(der.status == 0);
  CHECK(aka::to_hex(aka::ByteView(
            reinterpret_cast<const std::uint8_t*>(der.out.data()) + der.out.size() - 32, 32)) ==
        p.at("login_public_key"));
  expect_usage(a.ctl("subscriber profile --nai carol@op-b.example --out " + shell_quote(out)),
               "--nai");
  CHECK(a.ctl("subscriber clear-password --nai carol@op-a.example").status == 0);
  CHECK(a.ctl("subscriber clear-password --nai carol@op-a.example").status != 0);
  // pki add-login-key refuses to replace the key unless asked.
  CHECK(a.ctl("pki add-login-key").status != 0);
  CHECK(a.ctl("pki add-login-key --force").status == 0);
}

TEST_CASE("subscriber add takes K and OP from files or standard input and warns about argv",
          "[oagctl][subscriber]") {
  Operator a("op-a.example");
  const auto k_file = a.dir.file("k.hex"), op_file = a.dir.file("op.hex");
  std::ofstream(k_file) << "  " << kK << " \n(the rest is ignored)\n";
  std::ofstream(op_file) << kOp << "\n";
  auto r = a.ctl("subscriber add --nai carol@op-a.example --imsi 001010000000005 --k-file " +
                 shell_quote(k_file) + " --op-file " + shell_quote(op_file));
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("warning") == std::string::npos);
  // From standard input, one of them.
  r = test::run_command("echo " + kOp + " | " + OAGCTL_PATH + " --config " + a.config() +
                        " subscriber add --nai dave@op-a.example --imsi 001010000000006 "
                        "--k-file " +
                        shell_quote(k_file) + " --op-file -");
  INFO(r.err);
  REQUIRE(r.status == 0);
  // In argv it still works, with a warning naming each option.
  r = a.ctl("subscriber add --nai erin@op-a.example --imsi 001010000000007 --k " + kK + " --op " +
            kOp);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("warning: --k on the command line is visible") != std::string::npos);
  CHECK(r.err.find("warning: --op on the command line is visible") != std::string::npos);
  // What was stored is the K and OPc of the files: a vector issued from the store for each
  // matches Milenage recomputed here from the file values.
  auto store = a.open();
  const auto k = aka::Secret<16>(*aka::from_hex_fixed<16>(kK));
  const auto opc = aka::milenage::compute_opc(k, aka::Secret<16>(*aka::from_hex_fixed<16>(kOp)));
  for (const std::string nai : {"carol@op-a.example", "dave@op-a.example", "erin@op-a.example"}) {
    storage::IssueRequest req;
    req.subject = nai;
    req.kind = storage::Kind::aka;
    req.count = 1;
    req.requester = nai;
    req.request_id = "req-" + nai;
    const auto got = store->issuance().issue(req);
    INFO((got.ok() ? "" : got.error().detail));
    REQUIRE(got.ok());
    const auto& v = got.value().vectors.at(0);
    const auto m = aka::milenage::compute(k, opc, v.rand, {}, {0x80, 0x00}, aka::milenage::kF2345);
    INFO(nai);
    CHECK(aka::to_hex(v.xres.expose()) == aka::to_hex(m.res.expose()));
  }
  // Refusals name the option.
  expect_usage(a.ctl("subscriber add --nai f@op-a.example --imsi 001010000000008 --k-file " +
                     shell_quote(a.dir.file("missing")) + " --op " + kOp),
               "--k-file: cannot read");
  std::ofstream(a.dir.file("empty")) << "\n";
  expect_usage(a.ctl("subscriber add --nai f@op-a.example --imsi 001010000000008 --k-file " +
                     shell_quote(a.dir.file("empty")) + " --op " + kOp),
               "--k-file: ");
  std::ofstream(a.dir.file("short")) << "0011\n";
  expect_usage(a.ctl("subscriber add --nai f@op-a.example --imsi 001010000000008 --k-file " +
                     shell_quote(a.dir.file("short")) + " --op " + kOp),
               "--k-file: ");
  expect_usage(a.ctl("subscriber add --nai f@op-a.example --imsi 001010000000008 --k " + kK +
                     " --k-file " + shell_quote(k_file) + " --op " + kOp),
               "--k-file: give --k or --k-file, not both");
  expect_usage(test::run_command("echo " + kK + " | " + OAGCTL_PATH + " --config " + a.config() +
                                 " subscriber add --nai f@op-a.example --imsi 001010000000008 "
                                 "--k-file - --op-file -"),
               "--op-file: standard input is already read");
}
