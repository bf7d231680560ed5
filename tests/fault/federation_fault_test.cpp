// The federation fault harness (issue 17): two real oagd under brokered load in both directions,
// each SIGKILLed at random moments and restarted, many times. Every kill of one gateway is a kill
// of an issuer (for the other side's buyers) and of a broker (for its own). Afterwards the two
// operators must agree: no vector handed out twice, every vector an endpoint received sold at the
// issuer and bought at the broker under one request id, `billing reconcile` finding nothing but
// "unconfirmed" sales (sold, never bought, so never delivered), and both chains intact. The same
// for roaming logins: no certificate without its sold record.
//
// Counts: OAG_FAULT_KILLS kills of each gateway (default 50).
#include <openssl/sha.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "client/enroll.hpp"
#include "client/https.hpp"
#include "client/roaming_login.hpp"
#include "proto/aka/hex.hpp"
#include "proto/aka/usim.hpp"
#include "proto/login/keys.hpp"
#include "tests/integration/gateway_process.hpp"

using namespace oag;
using nlohmann::json;
using test::ctl_ok;
using test::Gateway;
using test::shell_quote;

namespace {

unsigned kills_wanted() {
  const char* v = std::getenv("OAG_FAULT_KILLS");
  return v ? static_cast<unsigned>(std::stoul(v)) : 50;
}

// A configuration for restarts: a short breaker (the peer comes back within milliseconds), a
// generous visitor login rate (the harness logs in from one address, many times), and two I/O
// threads, so that the TSan run of this harness sees connections served on both.
void fault_config(json& c) {
  c["threads"]["io"] = 2;
  c["federation"]["breaker_open_ms"] = 50;
  c["roaming"]["logins_per_minute_per_address"] = 100000;
}

std::string sha256_hex(const std::string& hex) {
  const auto bytes = test::unhex(hex);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(bytes.data(), bytes.size(), md);
  return aka::to_hex(aka::ByteView(md, sizeof md));
}

// The issue records of a gateway's billing export (JSON lines; the first line is a summary).
std::vector<json> billing_of(const Gateway& g, const std::string& file) {
  ctl_ok("--config " + g.cfg + " billing export --format jsonl --output " + shell_quote(file));
  std::ifstream in(file);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line);
    if (j.contains("kind")) out.push_back(std::move(j));
  }
  return out;
}

// `oagctl billing reconcile` between two exports: the report, requiring exit 0 (only unconfirmed
// sales, which are not differences).
json reconcile(const Gateway& at, const std::string& ours, const std::string& theirs) {
  const auto r =
      test::run_command(std::string(OAGCTL_PATH) + " --json --config " + at.cfg +
                        " billing reconcile " + shell_quote(ours) + " " + shell_quote(theirs));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const auto rep = json::parse(r.out);
  CHECK(rep.at("missing_in_theirs").empty());
  CHECK(rep.at("missing_in_ours").empty());
  CHECK(rep.at("mismatched").empty());
  return rep;
}

// Waits until `progress` has moved `n` past `from` (20 s at most: no progress fails the test).
void await_progress(const std::atomic<std::uint64_t>& progress, std::uint64_t from, std::uint64_t n,
                    const Gateway& a, const Gateway& b) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (progress.load() < from + n) {
    if (std::chrono::steady_clock::now() >= give_up) FAIL("no progress\n" << a.log() << b.log());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Kills `a` and `b` alternately at random (each `kills` times), each kill a random moment after
// `progress` has moved since the last restart, so that every kill lands under load.
struct Killer {
  Gateway& a;
  Gateway& b;
  const std::atomic<std::uint64_t>& progress;
  unsigned kills;
  unsigned killed_a = 0, killed_b = 0;

  void run(unsigned max_delay_ms) {
    std::mt19937 rng(std::random_device{}());
    while (killed_a < kills || killed_b < kills) {
      await_progress(progress, progress.load(), 1, a, b);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % (max_delay_ms + 1)));
      const bool pick_a = killed_b >= kills || (killed_a < kills && rng() % 2 == 0);
      Gateway& g = pick_a ? a : b;
      g.kill_hard();
      g.start();
      ++(pick_a ? killed_a : killed_b);
    }
  }
};

// The load's threads: stopped and joined however the test ends (a failed REQUIRE unwinds through
// here, and the gateways' destructors stop the daemons after).
struct Workers {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  void join() {
    stop = true;
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  ~Workers() { join(); }
};

// What one buying endpoint saw.
struct Tally {
  std::vector<json> vectors;  // each with "subject" added
  std::map<int, unsigned> statuses;
  std::vector<std::string> unexpected;
};

// alice-at-`at` buys `subject`'s vectors through her gateway until `stop`, alternating kinds.
void buy(const Gateway& at, const std::string& who, const std::string& subject,
         const std::atomic<bool>& stop, std::atomic<std::uint64_t>& progress, Tally& t) {
  const auto c = at.client(who);  // the ports are pinned: the same client reconnects
  for (unsigned i = 0; !stop; ++i) {
    const json body{{"nai", subject}, {"kind", i % 2 ? "sim" : "aka"}, {"count", 1}};
    const auto r = c->request("POST", "/v1/vectors", body.dump());
    ++t.statuses[r.status];
    if (r.status == 200) {
      const auto answer = json::parse(r.body);
      for (auto v : answer.at("vectors")) {
        v["subject"] = subject;
        v["kind"] = body["kind"];
        t.vectors.push_back(std::move(v));
      }
      ++progress;
    } else if (r.status == 0 || r.status == 502 || r.status == 503 || r.status == 504) {
      // The gateway or its peer is down or restarting: what an endpoint sees and retries.
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } else {
      t.unexpected.push_back(std::to_string(r.status) + " " + r.body);
    }
  }
}

std::string statuses_of(const std::vector<Tally>& ts) {
  std::map<int, unsigned> all;
  for (const auto& t : ts)
    for (const auto& [s, n] : t.statuses) all[s] += n;
  std::string out;
  for (const auto& [s, n] : all) out += " " + std::to_string(s) + "×" + std::to_string(n);
  return out;
}

}  // namespace

TEST_CASE(
    "federation under SIGKILL of either gateway: no vector twice, every one billed on both "
    "sides, reconcile finds only unconfirmed sales",
    "[fault]") {
  Gateway a("op-a.example", {"alice"}, 50, fault_config);
  Gateway b("op-b.example", {"bob"}, 50, fault_config);
  a.pin_ports();
  b.pin_ports();
  test::agree(a, "a-b", b, "--rate 100000 --burst 100000");
  test::agree(b, "b-a", a, "--rate 100000 --burst 100000");

  std::atomic<std::uint64_t> progress{0};
  std::vector<Tally> tallies(4);
  Workers buyers;
  // Two endpoints each way: alice buys bob's vectors through op-a, bob alice's through op-b.
  for (int i = 0; i < 2; ++i) {
    buyers.threads.emplace_back(buy, std::cref(a), "alice@op-a.example", "bob@op-b.example",
                                std::cref(buyers.stop), std::ref(progress),
                                std::ref(tallies[2 * i]));
    buyers.threads.emplace_back(buy, std::cref(b), "bob@op-b.example", "alice@op-a.example",
                                std::cref(buyers.stop), std::ref(progress),
                                std::ref(tallies[2 * i + 1]));
  }
  Killer k{a, b, progress, kills_wanted()};
  const auto t0 = std::chrono::steady_clock::now();
  k.run(150);
  // Load on the restarted pair for a moment more, so that the last restart served too.
  await_progress(progress, progress.load(), 20, a, b);
  buyers.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<json> got;
  for (const auto& t : tallies) {
    for (const auto& u : t.unexpected) FAIL_CHECK("unexpected answer: " << u);
    got.insert(got.end(), t.vectors.begin(), t.vectors.end());
  }
  INFO("answers:" << statuses_of(tallies));
  REQUIRE(got.size() > 100);

  // No vector twice, to one endpoint or to two: every RAND once, every AKA SQN once per subscriber.
  std::set<std::string> rands;
  std::map<std::string, std::set<std::uint64_t>> sqns;
  for (const auto& v : got) {
    CHECK(rands.insert(v.at("rand").get<std::string>()).second);
    if (v.at("kind") == "aka") {
      aka::UsimSqnState usim;  // fresh: accepts any SQN, and tells us which it was
      const auto out = aka::usim_run_aka(
          test::subscriber_keys(), *aka::from_hex_fixed<16>(v.at("rand").get<std::string>()),
          *aka::from_hex_fixed<16>(v.at("autn").get<std::string>()), usim);
      REQUIRE(std::holds_alternative<aka::AkaSuccess>(out));
      CHECK(sqns[v.at("subject")].insert(std::get<aka::AkaSuccess>(out).sqn.value).second);
    }
  }

  // Every vector received: sold at its issuer and bought at its broker, one request id.
  const auto ba = billing_of(a, a.dir.file("a.jsonl")), bb = billing_of(b, b.dir.file("b.jsonl"));
  const auto index = [](const std::vector<json>& recs, const char* role) {
    std::map<std::string, std::string> by_rand;  // rand_sha256 → request_id
    for (const auto& r : recs)
      if (r.at("role") == role && r.at("event") == "issue")
        by_rand[r.at("rand_sha256").get<std::string>()] = r.at("request_id").get<std::string>();
    return by_rand;
  };
  const auto sold_a = index(ba, "sold"), bought_a = index(ba, "bought");
  const auto sold_b = index(bb, "sold"), bought_b = index(bb, "bought");
  unsigned unbilled = 0, unpaired = 0;
  for (const auto& v : got) {
    const bool from_b = v.at("subject") == "bob@op-b.example";
    const auto& sold = from_b ? sold_b : sold_a;
    const auto& bought = from_b ? bought_a : bought_b;
    const auto h = sha256_hex(v.at("rand").get<std::string>());
    const auto s = sold.find(h), o = bought.find(h);
    if (s == sold.end() || o == bought.end())
      ++unbilled;
    else if (s->second != o->second)
      ++unpaired;
  }
  CHECK(unbilled == 0);
  CHECK(unpaired == 0);

  // Reconcile, from each side: nothing but unconfirmed sales, none of them a vector received.
  const auto rep = reconcile(a, a.dir.file("a.jsonl"), b.dir.file("b.jsonl"));
  const auto rep_b = reconcile(b, b.dir.file("b.jsonl"), a.dir.file("a.jsonl"));
  CHECK(rep.at("unconfirmed").size() == rep_b.at("unconfirmed").size());
  std::set<std::string> received;
  for (const auto& v : got) received.insert(sha256_hex(v.at("rand").get<std::string>()));
  for (const auto& u : rep.at("unconfirmed"))
    CHECK(received.count(u.at("rand_sha256").get<std::string>()) == 0);
  CHECK(a.ctl_json("billing verify").at("ok") == true);
  CHECK(b.ctl_json("billing verify").at("ok") == true);

  WARN("federation fault harness: "
       << k.killed_a << " SIGKILLs of op-a and " << k.killed_b << " of op-b survived in " << secs
       << " s; " << got.size() << " vectors received, " << rep.at("matched") << " sales matched, "
       << rep.at("unconfirmed").size() << " unconfirmed; answers:" << statuses_of(tallies));
}

namespace {

const std::string kPassword = "correct horse battery";

// A password user `nai` at `home`, its profile for the client.
client::HomeProfile password_user(const Gateway& home, const std::string& nai) {
  ctl_ok("--config " + home.cfg + " subscriber add --nai " + nai + " --no-sim");
  const auto pw = home.dir.file(nai + ".password");
  std::ofstream(pw) << kPassword << "\n";
  ctl_ok("--config " + home.cfg + " subscriber set-password --nai " + nai + " --password-file " +
         shell_quote(pw));
  const auto file = home.dir.file(nai + ".profile.json");
  ctl_ok("--config " + home.cfg + " subscriber profile --nai " + nai + " --out " +
         shell_quote(file));
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return std::get<client::HomeProfile>(client::parse_profile(text));
}

struct LoginTally {
  std::vector<std::string> serials;
  unsigned errors = 0;
  std::map<std::string, unsigned> refusals;
};

// `who` logs in through `fa` until `stop`.
void log_in(const Gateway& fa, const client::HomeProfile& who, const std::atomic<bool>& stop,
            std::atomic<std::uint64_t>& progress, LoginTally& t) {
  client::HttpsOptions o;
  o.port = fa.visitor_port;
  o.verify_server = false;  // DESIGN §7: the FA's certificate is not the user's to check
  const auto key = login::pwd_key(kPassword, who.nai);  // once: the scrypt is the client's cost
  while (!stop) {
    client::HttpsClient https(o);
    client::HttpsTransport transport(https);
    client::RoamingLogin l(transport, who, key);
    auto got = l.run();
    if (std::holds_alternative<client::Error>(got)) {
      ++t.errors;  // the FA or the HA was down: the user tries again
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      continue;
    }
    const auto& r = std::get<client::LoginOutcome>(got);
    if (r.accepted) {
      t.serials.push_back(r.serial);
      ++progress;
    } else {
      ++t.refusals[r.reason];
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

// The serials of `nai`'s certificates at its home.
std::set<std::string> certificates_of(const Gateway& home, const std::string& nai) {
  std::set<std::string> out;
  for (const auto& c : home.ctl_json("endpoint list --nai " + nai))
    out.insert(c.at("serial").get<std::string>());
  return out;
}

}  // namespace

TEST_CASE(
    "roaming logins under SIGKILL of either gateway: no certificate without its sold record, "
    "reconcile finds only unconfirmed sales",
    "[fault]") {
  Gateway a("op-a.example", {"alice"}, 50, fault_config);
  Gateway b("op-b.example", {"bob"}, 50, fault_config);
  a.pin_ports();
  b.pin_ports();
  const auto carol = password_user(a, "carol@op-a.example");
  const auto dan = password_user(b, "dan@op-b.example");
  test::agree(b, "b-a", a,
              "--rate 100000 --burst 100000 --kinds login --user-ca-file " +
                  shell_quote(a.dir.file("endpoint-ca.pem")));
  test::agree(a, "a-b", b,
              "--rate 100000 --burst 100000 --kinds login --user-ca-file " +
                  shell_quote(b.dir.file("endpoint-ca.pem")));

  std::atomic<std::uint64_t> progress{0};
  LoginTally tc, td;
  Workers users;
  // carol (home op-a) logs in through op-b, dan (home op-b) through op-a.
  users.threads.emplace_back(log_in, std::cref(b), std::cref(carol), std::cref(users.stop),
                             std::ref(progress), std::ref(tc));
  users.threads.emplace_back(log_in, std::cref(a), std::cref(dan), std::cref(users.stop),
                             std::ref(progress), std::ref(td));
  Killer k{a, b, progress, kills_wanted()};
  const auto t0 = std::chrono::steady_clock::now();
  k.run(100);
  await_progress(progress, progress.load(), 4, a, b);
  users.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The FA's answers while the home agent is down are what a user sees and retries; a refusal
  // by the home agent (a NACK) would be a fault of ours.
  const std::set<std::string> transient = {"peer-unavailable", "peer-timeout", "peer-error"};
  for (const auto* t : {&tc, &td})
    for (const auto& [reason, n] : t->refusals)
      if (!transient.count(reason)) FAIL_CHECK(n << " logins refused: " << reason);
  const auto ba = billing_of(a, a.dir.file("a.jsonl")), bb = billing_of(b, b.dir.file("b.jsonl"));
  const auto count = [](const std::vector<json>& recs, const char* role, const std::string& nai) {
    return std::count_if(recs.begin(), recs.end(), [&](const json& r) {
      return r.at("kind") == "login" && r.at("role") == role && r.at("subject") == nai;
    });
  };
  struct Side {
    const Gateway& home;
    const std::vector<json>& home_bills;
    const std::vector<json>& fa_bills;
    std::string nai;
    const LoginTally& t;
  };
  for (const Side& s :
       {Side{a, ba, bb, "carol@op-a.example", tc}, Side{b, bb, ba, "dan@op-b.example", td}}) {
    INFO(s.nai);
    const auto certs = certificates_of(s.home, s.nai);
    // Every certificate issued has its sold record, and every sale its certificate.
    CHECK(static_cast<long>(certs.size()) == count(s.home_bills, "sold", s.nai));
    // Every certificate a user received is recorded at home and was bought by the FA; none twice.
    const std::set<std::string> received(s.t.serials.begin(), s.t.serials.end());
    CHECK(received.size() == s.t.serials.size());
    for (const auto& serial : received) CHECK(certs.count(serial) == 1);
    CHECK(count(s.fa_bills, "bought", s.nai) >= static_cast<long>(received.size()));
    CHECK(count(s.fa_bills, "bought", s.nai) <= count(s.home_bills, "sold", s.nai));
  }
  const auto rep = reconcile(a, a.dir.file("a.jsonl"), b.dir.file("b.jsonl"));
  reconcile(b, b.dir.file("b.jsonl"), a.dir.file("a.jsonl"));
  CHECK(a.ctl_json("billing verify").at("ok") == true);
  CHECK(b.ctl_json("billing verify").at("ok") == true);
  WARN("login fault harness: " << k.killed_a << " SIGKILLs of op-a and " << k.killed_b
                               << " of op-b survived in " << secs << " s; "
                               << tc.serials.size() + td.serials.size()
                               << " certificates received, " << tc.errors + td.errors
                               << " logins failed on the way, " << rep.at("matched")
                               << " sales matched, " << rep.at("unconfirmed").size()
                               << " unconfirmed");
}
