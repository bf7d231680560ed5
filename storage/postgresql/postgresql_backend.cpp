// The PostgreSQL backend: the connections of engine/connection.hpp over libpq. One writer
// connection (the group-commit writer's: one transaction per batch), reader connections for
// lookups. Several oagd may share the database (DESIGN §10): every rule that makes that safe is
// above, in issuance/ (SQN per IND slot, a chain per instance, the conditional quota).
#include "storage/postgresql/postgresql_backend.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "storage/billing_chain.hpp"
#include "storage/engine/connection.hpp"
#include "storage/postgresql/pg.hpp"
#include "storage/postgresql/statements.hpp"

namespace oag::storage::postgresql {

namespace {

using sql::SqnMode;

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

constexpr Migration kMigrations[] = {
#include "postgresql_migrations.inc"
};

// Serialises migrations of several instances starting at once ("oag" in ASCII).
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7299431)";

Error unavailable(const std::string& what) {
  return {Errc::unavailable, what};
}

std::int64_t i64(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

aka::ByteView view(const std::vector<std::uint8_t>& v) {
  return aka::ByteView(v.data(), v.size());
}

Subscriber read_subscriber(const PgResult& r, int i) {
  Subscriber s;
  s.id = r.int64(i, 0);
  s.nai = r.text(i, 1);
  s.imsi = r.text(i, 2);
  s.algorithm = aka::parse_algorithm(r.text(i, 3)).value_or(aka::Algorithm::milenage);
  const auto amf = r.bytes(i, 4);
  if (amf.size() == 2) s.amf = {amf[0], amf[1]};
  s.seq_he = static_cast<std::uint64_t>(r.int64(i, 5));
  s.ind_len = static_cast<unsigned>(r.int64(i, 6));
  s.kinds = static_cast<unsigned>(r.int64(i, 7));
  s.state = parse_state(r.text(i, 8)).value_or(State::suspended);
  s.created_ms = r.int64(i, 9);
  return s;
}

Agreement read_agreement(const PgResult& r, int i) {
  Agreement a;
  a.id = r.text(i, 0);
  a.peer_realms = split_realms(r.text(i, 1));
  a.peer_url = r.text(i, 2);
  a.trust_ca_file = r.text(i, 3);
  a.trust_spki_sha256 = r.text(i, 4);
  a.kinds = static_cast<unsigned>(r.int64(i, 5));
  a.rate_per_s = r.real(i, 6);
  a.burst = static_cast<unsigned>(r.int64(i, 7));
  a.quota = static_cast<std::uint64_t>(r.int64(i, 8));
  a.quota_period = r.text(i, 9);
  a.price_micros = r.int64(i, 10);
  a.currency = r.text(i, 11);
  a.valid_from_ms = r.int64(i, 12);
  a.valid_until_ms = r.int64(i, 13);
  a.state = parse_state(r.text(i, 14)).value_or(State::suspended);
  a.user_ca_file = r.text(i, 15);
  return a;
}

BillingRecord read_billing(const PgResult& r, int i) {
  BillingRecord b;
  b.chain = r.text(i, 0);
  b.seq = static_cast<std::uint64_t>(r.int64(i, 1));
  b.time_ms = r.int64(i, 2);
  b.role = parse_role(r.text(i, 3)).value_or(Role::local);
  b.event = r.text(i, 4);
  b.requester = r.text(i, 5);
  b.subject = r.text(i, 6);
  b.requester_realm = r.text(i, 7);
  b.subject_realm = r.text(i, 8);
  b.agreement = r.text(i, 9);
  b.kind = parse_billing_kind(r.text(i, 10)).value_or(BillingKind::aka);
  b.count = static_cast<unsigned>(r.int64(i, 11));
  b.unit_price_micros = r.int64(i, 12);
  b.currency = r.text(i, 13);
  b.request_id = r.text(i, 14);
  b.rand_sha256 = r.text(i, 15);
  b.outcome = r.text(i, 16);
  b.prev_hash = r.text(i, 17);
  b.hash = r.text(i, 18);
  b.detail = r.text(i, 19);
  return b;
}

EndpointCert read_cert(const PgResult& r, int i) {
  EndpointCert c{r.text(i, 0),  r.text(i, 1), r.int64(i, 2),
                 r.int64(i, 3), std::nullopt, r.text(i, 5)};
  if (!r.is_null(i, 4)) c.revoked_ms = r.int64(i, 4);
  return c;
}

LoginFailures read_failures(const PgResult& r) {
  return {static_cast<unsigned>(r.int64(0, 0)), r.int64(0, 1), r.int64(0, 2)};
}

// The schema version of the database `c` is connected to (0: no OAG tables).
int schema_version_of(PgConn& c) {
  auto r = c.run("SELECT to_regclass('oag_schema') IS NOT NULL");
  if (!r.boolean(0, 0)) return 0;
  auto v = c.run(sql::kSchemaVersion);
  return v.is_null(0, 0) ? 0 : static_cast<int>(v.int64(0, 0));
}

int latest() {
  int v = 0;
  for (const auto& m : kMigrations) v = std::max(v, m.version);
  return v;
}

// --- the writer's connection ------------------------------------------------------------------

class Writer final : public engine::WriteConnection {
 public:
  explicit Writer(const BackendConfig& cfg)
      : c_(cfg.path), durable_(cfg.synchronous_full), ind_(cfg.ind_slot) {
    settings();
  }

  // --- writer::Transactions ---
  void begin() override {
    forget_held();
    forget_rows();
    defer_ = true;
    if (!c_.ok() && !reconnect())
      throw StoreError(unavailable("database: PostgreSQL connection lost, reconnecting failed"));
    c_.exec("BEGIN");
    open_ = true;
  }
  void commit() override {
    forget_held();
    forget_rows();
    expected_.clear();
    open_ = false;  // whatever COMMIT answers, the transaction is over
    c_.exec("COMMIT");
  }
  void rollback() override {
    forget_held();
    forget_rows();  // (the hints stay: the batch runs again)
    if (!open_) return;
    open_ = false;
    c_.exec("ROLLBACK");
  }
  void savepoint() override {
    defer_ = false;  // a savepoint per job: each writes as it goes, so that it fails alone
    c_.exec("SAVEPOINT req");
  }
  void release() override { c_.exec("RELEASE SAVEPOINT req"); }
  void rollback_to_savepoint() override {
    forget_rows();
    c_.exec("ROLLBACK TO SAVEPOINT req");
  }
  void recover() noexcept override {
    forget_held();
    forget_rows();
    expected_.clear();
    try {
      if (c_.ok()) {
        rollback();
        return;
      }
    } catch (...) {
    }
    open_ = false;
    reconnect();  // fails while the server is down; the next batch tries again
  }

  // --- issuance::IssueTxn ---
  void expect_subscriber(const std::string& nai) override { expected_.push_back(nai); }

  // The batch's subscribers come with one query at the first lookup of its transaction (one
  // statement per batch, not per request). The rows stay valid while only this transaction
  // changes them: a held-back or written SQN step is laid over them, and any other write to
  // subscribers, or a rollback, forgets them.
  std::optional<issuance::KeyRow> subscriber_keys(const std::string& nai, unsigned ind) override {
    auto row = cached_row(nai, ind);
    if (row) {
      if (const auto it = slots_.find({row->id, ind}); it != slots_.end())
        row->slot_seq = it->second.next;
      else if (const auto w = written_.find({row->id, ind}); w != written_.end())
        row->slot_seq = w->second;
    }
    return row;
  }
  // In a batch run without savepoints the writes of every issue are held back and sent at the
  // end as one multi-row statement per table (a statement's fixed cost per batch, not per
  // issue; the SQN steps of one slot coalesced into one). What this transaction reads of a
  // slot's SEQ meanwhile is the held-back value. A conflict found then sends the batch round
  // again with a savepoint per job, where nothing is held back (writer::Transactions::flush).
  issuance::IssueConflict write_issue(const std::vector<issuance::VectorRow>& vectors,
                                      const std::optional<issuance::SqnStep>& sqn,
                                      const BillingRecord& b) override {
    if (!defer_) return write_now(vectors, sqn, b);
    if (sqn) {
      const auto key = std::make_pair(sqn->subscriber, sqn->ind);
      const auto it = slots_.find(key);
      if (it == slots_.end())
        slots_.emplace(key, HeldSqn{sqn->expected, sqn->next});
      else if (sqn->expected != it->second.next)
        return issuance::IssueConflict::sqn;
      else
        it->second.next = sqn->next;
    }
    held_.push_back({vectors, sqn, b});
    return issuance::IssueConflict::none;
  }
  bool flush() override {
    if (held_.empty()) return true;
    try {
      const bool ok = held_.size() == 1
                          ? write_now(held_[0].vectors, held_[0].sqn, held_[0].billing) ==
                                issuance::IssueConflict::none
                          : write_held();
      forget_held();
      return ok;
    } catch (const writer::RetryBatch&) {
      forget_held();
      throw;
    } catch (const StoreError&) {
      forget_held();  // the transaction is aborted: the batch runs again with savepoints
      return false;
    }
  }
  void raise_sqn(std::int64_t subscriber, std::uint64_t seq) override {
    forget_rows();
    c_.run(sql::kSlotsRaise, {subscriber, i64(seq)});
    c_.run(sql::kBaseRaise, {subscriber, i64(seq)});
  }
  bool rand_issued(std::int64_t subscriber, const aka::Bytes<16>& rand) override {
    return c_.run(sql::kVectorRandExists, {subscriber, aka::ByteView(rand)}).rows() > 0;
  }
  bool add_quota_use(const std::string& agreement, std::int64_t period_start_ms,
                     std::uint64_t count, std::uint64_t quota) override {
    return c_.run(sql::kQuotaAdd, {agreement, period_start_ms, i64(count), i64(quota)})
               .affected() == 1;
  }
  issuance::ChainHead chain_head(const std::string& chain) override {
    auto r = c_.run(sql::kBillingHead, {chain});
    if (r.rows() == 0) return {0, kGenesisHash};
    return {static_cast<std::uint64_t>(r.int64(0, 0)), r.text(0, 1)};
  }
  void append_billing(const BillingRecord& b) override {
    c_.run(sql::kBillingInsert, {b.chain,
                                 i64(b.seq),
                                 b.time_ms,
                                 to_string(b.role),
                                 b.event,
                                 b.requester,
                                 b.subject,
                                 b.requester_realm,
                                 b.subject_realm,
                                 b.agreement,
                                 to_string(b.kind),
                                 std::int64_t{b.count},
                                 b.unit_price_micros,
                                 b.currency,
                                 b.request_id,
                                 b.rand_sha256,
                                 b.outcome,
                                 b.prev_hash,
                                 b.hash,
                                 b.detail});
  }
  std::optional<issuance::FedAnswer> federation_answer(const std::string& peer,
                                                       const std::string& request_id) override {
    auto r = c_.run(sql::kFedGet, {peer, request_id});
    if (r.rows() == 0) return std::nullopt;
    return issuance::FedAnswer{r.text(0, 0), r.bytes(0, 1)};
  }
  bool put_federation_answer(const std::string& peer, const std::string& request_id,
                             const issuance::FedAnswer& a, std::int64_t now_ms) override {
    return c_.run(sql::kFedPut, {peer, request_id, a.fingerprint, view(a.sealed), now_ms})
               .affected() == 1;
  }
  std::optional<issuance::VectorRef> vector_ref(const std::string& id,
                                                const std::string& requester) override {
    const auto read = [](const PgResult& r) {
      issuance::VectorRef v;
      v.kind = parse_kind(r.text(0, 0)).value_or(Kind::aka);
      const auto rand = r.bytes(0, 1);
      std::copy_n(rand.begin(), std::min<std::size_t>(16, rand.size()), v.rand.begin());
      v.requester = r.text(0, 2);
      v.request_id = r.text(0, 3);
      v.role = parse_role(r.text(0, 4)).value_or(Role::local);
      v.agreement = r.text(0, 5);
      v.reported = !r.is_null(0, 6);
      v.subject = r.text(0, 7);
      return v;
    };
    {
      auto r = c_.run(sql::kVectorById, {id});
      if (r.rows() > 0 && r.text(0, 2) == requester) return read(r);  // not theirs: not there
    }
    auto r = c_.run(sql::kBoughtById, {id, requester});
    if (r.rows() > 0) return read(r);
    return std::nullopt;
  }
  void set_outcome(const std::string& id, const std::string& requester, Role role,
                   bool success) override {
    const char* outcome = success ? "success" : "failure";
    if (role == Role::bought)
      c_.run(sql::kBoughtSetOutcome, {id, requester, outcome});
    else
      c_.run(sql::kVectorSetOutcome, {id, outcome});
  }
  bool insert_bought(const issuance::BoughtRow& b) override {
    return c_.run(sql::kBoughtInsert, {b.id, b.agreement, b.subject, b.requester, to_string(b.kind),
                                       aka::ByteView(b.rand), b.request_id, b.issued_ms})
               .affected() == 1;
  }

  // --- administrative writes ---
  engine::Taken insert_subscriber(const engine::SubscriberRow& s) override {
    forget_rows();
    if (c_.run(sql::kSubscriberInsert,
               {s.nai, s.imsi.empty() ? Param() : Param(s.imsi), s.algorithm, view(s.k_enc),
                view(s.opc_enc), s.tuak_res_len, s.tuak_iterations, aka::ByteView(s.amf),
                i64(s.seq_he), std::int64_t{s.ind_len}, std::int64_t{s.kinds}, to_string(s.state),
                s.created_ms})
            .affected() == 1)
      return engine::Taken::none;
    return c_.run(sql::kImsiTaken, {s.imsi}).rows() > 0 ? engine::Taken::imsi : engine::Taken::nai;
  }
  std::optional<Subscriber> subscriber(const std::string& nai) override {
    auto r = c_.run(sql::kSubscriberByNai, {nai});
    if (r.rows() == 0) return std::nullopt;
    return read_subscriber(r, 0);
  }
  bool set_subscriber_state(const std::string& nai, State s) override {
    forget_rows();
    return c_.run(sql::kSubscriberSetState, {nai, to_string(s)}).affected() == 1;
  }
  bool set_subscriber_seq(const std::string& nai, std::uint64_t seq) override {
    forget_rows();
    if (c_.run(sql::kSubscriberSetSeq, {nai, i64(seq)}).affected() != 1) return false;
    c_.run(sql::kSlotsClear, {nai});
    return true;
  }
  bool delete_subscriber(const std::string& nai) override {
    forget_rows();
    return c_.run(sql::kSubscriberDelete, {nai}).affected() == 1;
  }
  std::vector<engine::SealedKeys> all_sealed_keys() override {
    auto r = c_.run(sql::kSubscriberAllKeys);
    std::vector<engine::SealedKeys> v;
    for (int i = 0; i < r.rows(); ++i)
      v.push_back({r.int64(i, 0), r.text(i, 1), r.bytes(i, 2), r.bytes(i, 3)});
    return v;
  }
  void set_sealed_keys(std::int64_t id, const std::vector<std::uint8_t>& k_enc,
                       const std::vector<std::uint8_t>& opc_enc) override {
    forget_rows();
    c_.run(sql::kSubscriberSetKeys, {id, view(k_enc), view(opc_enc)});
  }
  std::optional<std::string> meta(const std::string& key) override {
    auto r = c_.run(sql::kMetaGet, {key});
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  }
  void set_meta(const std::string& key, const std::string& value) override {
    c_.run(sql::kMetaPut, {key, value});
  }
  bool insert_agreement(const Agreement& a) override {
    return c_.run(sql::kAgreementInsert,
                  {a.id, join_realms(a.peer_realms), a.peer_url, a.trust_ca_file,
                   a.trust_spki_sha256, std::int64_t{a.kinds}, a.rate_per_s, std::int64_t{a.burst},
                   i64(a.quota), a.quota_period, a.price_micros, a.currency, a.valid_from_ms,
                   a.valid_until_ms, to_string(a.state), a.user_ca_file})
               .affected() == 1;
  }
  bool set_agreement_state(const std::string& id, State s) override {
    return c_.run(sql::kAgreementSetState, {id, to_string(s)}).affected() == 1;
  }
  bool insert_cert(const EndpointCert& c) override {
    return c_.run(sql::kCertInsert, {c.serial, c.nai, c.not_after_ms, c.issued_ms, c.pem})
               .affected() == 1;
  }
  std::size_t revoke_certs(const std::string& nai, const std::string& serial,
                           std::int64_t now_ms) override {
    return static_cast<std::size_t>(
        serial.empty() ? c_.run(sql::kCertRevokeNai, {nai, now_ms}).affected()
                       : c_.run(sql::kCertRevokeSerial, {serial, now_ms}).affected());
  }

  // --- the roaming login ---
  std::optional<std::vector<std::uint8_t>> password(std::int64_t subscriber) override {
    auto r = c_.run(sql::kPasswordGet, {subscriber});
    if (r.rows() == 0) return std::nullopt;
    return r.bytes(0, 0);
  }
  void put_password(std::int64_t subscriber, const std::vector<std::uint8_t>& enc,
                    std::int64_t now_ms) override {
    c_.run(sql::kPasswordPut, {subscriber, view(enc), now_ms});
  }
  bool delete_password(std::int64_t subscriber) override {
    return c_.run(sql::kPasswordDelete, {subscriber}).affected() == 1;
  }
  std::vector<engine::SealedBlob> all_sealed_passwords() override {
    auto r = c_.run(sql::kPasswordAll);
    std::vector<engine::SealedBlob> v;
    for (int i = 0; i < r.rows(); ++i) v.push_back({r.text(i, 0), r.text(i, 1), r.bytes(i, 2)});
    return v;
  }
  void set_sealed_password(const std::string& key, const std::vector<std::uint8_t>& enc) override {
    c_.run(sql::kPasswordSet, {static_cast<std::int64_t>(std::stoll(key)), view(enc)});
  }
  std::vector<engine::SealedBlob> all_sealed_sessions() override {
    auto r = c_.run(sql::kSessionAll);
    std::vector<engine::SealedBlob> v;
    for (int i = 0; i < r.rows(); ++i) v.push_back({r.text(i, 0), r.text(i, 0), r.bytes(i, 1)});
    return v;
  }
  void set_sealed_session(const std::string& id, const std::vector<std::uint8_t>& enc) override {
    c_.run(sql::kSessionSet, {id, view(enc)});
  }
  std::optional<LoginFailures> login_failures(const std::string& nai) override {
    auto r = c_.run(sql::kFailuresGet, {nai});
    if (r.rows() == 0) return std::nullopt;
    return read_failures(r);
  }
  void put_login_failures(const std::string& nai, const LoginFailures& f) override {
    c_.run(sql::kFailuresPut,
           {nai, std::int64_t{f.failures}, f.window_start_ms, f.locked_until_ms});
  }
  void delete_login_failures(const std::string& nai) override {
    c_.run(sql::kFailuresDelete, {nai});
  }
  bool insert_login_nonce(const std::string& nai, const aka::Bytes<16>& n1,
                          std::int64_t time_ms) override {
    return c_.run(sql::kNonceInsert, {nai, aka::ByteView(n1), time_ms}).affected() == 1;
  }
  void purge_login_nonces(std::int64_t before_ms) override {
    c_.run(sql::kNoncePurge, {before_ms});
  }
  bool insert_session(const engine::SessionRow& row) override {
    return c_.run(sql::kSessionInsert, {row.id, row.nai, view(row.ks2_enc), row.agreement,
                                        row.created_ms, row.expires_ms, row.certificate})
               .affected() == 1;
  }

 private:
  // One statement for the whole issue (a round trip and a statement's overhead each, rather
  // than one per vector, one for the SQN and one for the billing record).
  issuance::IssueConflict write_now(const std::vector<issuance::VectorRow>& vectors,
                                    const std::optional<issuance::SqnStep>& sqn,
                                    const BillingRecord& b) {
    std::vector<Param> p;
    p.reserve(vectors.size() * 11 + 4 + 19);
    for (const auto& v : vectors) {
      for (Param x : {Param(v.id), Param(v.subscriber_id), Param(to_string(v.kind)),
                      Param(aka::ByteView(v.rand)), v.sqn ? Param(i64(*v.sqn)) : Param(),
                      Param(v.requester), Param(v.request_id), Param(to_string(v.role)),
                      Param(v.agreement), Param(v.issued_ms), Param(v.expires_ms)})
        p.push_back(std::move(x));
    }
    SqnMode mode = SqnMode::none;
    if (sqn) {
      mode = sqn->expected ? SqnMode::step : SqnMode::insert;
      p.emplace_back(sqn->subscriber);
      p.emplace_back(std::int64_t{sqn->ind});
      if (sqn->expected) p.emplace_back(i64(*sqn->expected));
      p.emplace_back(i64(sqn->next));
    }
    for (Param x : {Param(b.chain), Param(i64(b.seq)), Param(b.time_ms), Param(to_string(b.role)),
                    Param(b.event), Param(b.requester), Param(b.subject), Param(b.requester_realm),
                    Param(b.subject_realm), Param(b.agreement), Param(to_string(b.kind)),
                    Param(std::int64_t{b.count}), Param(b.unit_price_micros), Param(b.currency),
                    Param(b.request_id), Param(b.rand_sha256), Param(b.outcome), Param(b.prev_hash),
                    Param(b.hash)})
      p.push_back(std::move(x));
    auto r = c_.run(sql::issue_statement(vectors.size(), mode), p);
    if (r.int64(0, 0) != static_cast<std::int64_t>(vectors.size()))
      return issuance::IssueConflict::vector;
    if (r.int64(0, 1) != 1) return issuance::IssueConflict::sqn;
    if (sqn) written_[{sqn->subscriber, sqn->ind}] = sqn->next;
    return issuance::IssueConflict::none;
  }
  std::optional<issuance::KeyRow> cached_row(const std::string& nai, unsigned ind) {
    if (ind != ind_) {
      auto r = c_.run(sql::kSubscriberKeys, {nai, std::int64_t{ind}});
      if (r.rows() == 0) return std::nullopt;
      return key_row(r, 0);
    }
    if (!fetched_ && !expected_.empty()) {
      fetched_ = true;
      std::string list = "{";
      for (const auto& n : expected_) {
        list += list.size() > 1 ? ",\"" : "\"";
        for (const char ch : n) {
          if (ch == '"' || ch == '\\') list += '\\';
          list += ch;
        }
        list += '"';
      }
      list += "}";
      auto r = c_.run(sql::kSubscriberKeysMany, {list, std::int64_t{ind}});
      for (int i = 0; i < r.rows(); ++i) rows_[r.text(i, 12)] = key_row(r, i);
      for (const auto& n : expected_) asked_.insert(n);
    }
    if (const auto it = rows_.find(nai); it != rows_.end()) return it->second;
    if (asked_.count(nai)) return std::nullopt;  // asked in the batch's query: there is none
    auto r = c_.run(sql::kSubscriberKeys, {nai, std::int64_t{ind}});
    if (r.rows() == 0) return std::nullopt;
    return rows_[nai] = key_row(r, 0);
  }
  static issuance::KeyRow key_row(const PgResult& r, int i) {
    issuance::KeyRow k;
    k.id = r.int64(i, 0);
    k.algorithm = r.text(i, 1);
    k.k_enc = r.bytes(i, 2);
    k.opc_enc = r.bytes(i, 3);
    k.tuak_res_len = r.int64(i, 4);
    k.tuak_iterations = r.int64(i, 5);
    const auto amf = r.bytes(i, 6);
    if (amf.size() == 2) k.amf = {amf[0], amf[1]};
    k.seq_base = static_cast<std::uint64_t>(r.int64(i, 7));
    k.ind_len = static_cast<unsigned>(r.int64(i, 8));
    k.kinds = static_cast<unsigned>(r.int64(i, 9));
    k.state = parse_state(r.text(i, 10)).value_or(State::suspended);
    if (!r.is_null(i, 11)) k.slot_seq = static_cast<std::uint64_t>(r.int64(i, 11));
    return k;
  }
  void forget_rows() {
    rows_.clear();
    asked_.clear();
    written_.clear();
    fetched_ = false;
  }

  // The held-back writes: vectors, first rows of slots, slot steps, billing records.
  bool write_held() {
    std::vector<std::vector<Param>> vec_rows, bill_rows, first_rows, step_rows;
    for (const auto& h : held_) {
      for (const auto& v : h.vectors)
        vec_rows.push_back({v.id, v.subscriber_id, to_string(v.kind), aka::ByteView(v.rand),
                            v.sqn ? Param(i64(*v.sqn)) : Param(), v.requester, v.request_id,
                            to_string(v.role), v.agreement, v.issued_ms, v.expires_ms});
      const auto& b = h.billing;
      bill_rows.push_back({b.chain, i64(b.seq), b.time_ms, to_string(b.role), b.event, b.requester,
                           b.subject, b.requester_realm, b.subject_realm, b.agreement,
                           to_string(b.kind), std::int64_t{b.count}, b.unit_price_micros,
                           b.currency, b.request_id, b.rand_sha256, b.outcome, b.prev_hash,
                           b.hash});
    }
    for (const auto& [key, held] : slots_) {
      if (held.expected)
        step_rows.push_back(
            {key.first, std::int64_t{key.second}, i64(*held.expected), i64(held.next)});
      else
        first_rows.push_back({key.first, std::int64_t{key.second}, i64(held.next)});
    }
    return insert_rows(
               "INSERT INTO vectors (id, subscriber_id, kind, rand, sqn, requester, request_id, "
               "role, agreement, issued_ms, expires_ms) VALUES ",
               " ON CONFLICT DO NOTHING", vec_rows, {}) &&
           insert_rows("INSERT INTO sqn_slots (subscriber_id, ind, seq) VALUES ",
                       " ON CONFLICT DO NOTHING", first_rows, {}) &&
           insert_rows("UPDATE sqn_slots AS s SET seq = v.next FROM (VALUES ",
                       ") AS v (sub, ind, expected, next) WHERE s.subscriber_id = v.sub AND "
                       "s.ind = v.ind AND s.seq = v.expected",
                       step_rows, {"::bigint", "::integer", "::bigint", "::bigint"}) &&
           insert_rows(
               "INSERT INTO billing (chain, seq, time_ms, role, event, requester, subject, "
               "requester_realm, subject_realm, agreement, kind, count, unit_price_micros, "
               "currency, request_id, rand_sha256, outcome, prev_hash, hash) VALUES ",
               "", bill_rows, {});
  }
  // `head` (v1, ...), (v2, ...) `tail` in statements of at most ~60,000 parameters; true when
  // each changed as many rows as it sent. `casts` types the first row's values (VALUES lists
  // outside an INSERT have no column types to infer them from).
  bool insert_rows(const std::string& head, const std::string& tail,
                   const std::vector<std::vector<Param>>& rows,
                   const std::vector<const char*>& casts) {
    if (rows.empty()) return true;
    const std::size_t width = rows[0].size();
    const std::size_t per = std::max<std::size_t>(1, 60000 / width);
    for (std::size_t at = 0; at < rows.size(); at += per) {
      const std::size_t n = std::min(per, rows.size() - at);
      std::string sql = head;
      std::vector<Param> params;
      params.reserve(n * width);
      int next = 1;
      for (std::size_t i = 0; i < n; ++i) {
        sql += i ? ", (" : "(";
        for (std::size_t c = 0; c < width; ++c) {
          sql += (c ? ", $" : "$") + std::to_string(next++);
          if (i == 0 && c < casts.size()) sql += casts[c];
          params.push_back(rows[at + i][c]);
        }
        sql += ")";
      }
      sql += tail;
      if (c_.run_once(sql, params).affected() != n) return false;
    }
    return true;
  }
  void forget_held() {
    held_.clear();
    slots_.clear();
  }

  // Durability: synchronous_commit on (the server's default) unless a throwaway test said off.
  void settings() {
    c_.exec(durable_ ? "SET synchronous_commit = on" : "SET synchronous_commit = off");
  }
  bool reconnect() noexcept {
    if (!c_.reset()) return false;
    try {
      settings();
      return true;
    } catch (...) {
      return false;
    }
  }

  struct Held {
    std::vector<issuance::VectorRow> vectors;
    std::optional<issuance::SqnStep> sqn;
    BillingRecord billing;
  };
  struct HeldSqn {
    std::optional<std::uint64_t> expected;  // as first read (none: the slot has no row)
    std::uint64_t next = 0;                 // after the last held-back step
  };

  PgConn c_;
  bool durable_;
  bool open_ = false;
  bool defer_ = false;  // in a batch without savepoints: writes are held back until flush()
  unsigned ind_;
  std::vector<std::string> expected_;             // subscribers the coming batch will look up
  bool fetched_ = false;                          // the batch's query ran in this transaction
  std::set<std::string> asked_;                   // NAIs it asked for
  std::map<std::string, issuance::KeyRow> rows_;  // what it (or a single lookup) found
  std::map<std::pair<std::int64_t, unsigned>, std::uint64_t> written_;  // SEQ steps written
  std::vector<Held> held_;
  std::map<std::pair<std::int64_t, unsigned>, HeldSqn> slots_;
};

// --- reader connections -----------------------------------------------------------------------

class Reader final : public engine::ReadConnection {
 public:
  explicit Reader(const std::string& conninfo) : c_(conninfo) {}

  std::optional<Subscriber> subscriber(const std::string& nai) override {
    auto r = c_.run(sql::kSubscriberByNai, {nai});
    if (r.rows() == 0) return std::nullopt;
    return read_subscriber(r, 0);
  }
  std::vector<Subscriber> subscribers(std::size_t offset, std::size_t limit) override {
    auto r = c_.run(sql::kSubscriberList,
                    {static_cast<std::int64_t>(limit), static_cast<std::int64_t>(offset)});
    std::vector<Subscriber> v;
    for (int i = 0; i < r.rows(); ++i) v.push_back(read_subscriber(r, i));
    return v;
  }
  std::optional<Agreement> agreement(const std::string& id) override {
    auto r = c_.run(sql::kAgreementById, {id});
    if (r.rows() == 0) return std::nullopt;
    return read_agreement(r, 0);
  }
  std::vector<Agreement> agreements() override {
    return agreements_of(c_.run(sql::kAgreementList));
  }
  std::vector<Agreement> agreements_for_realm(const std::string& realm) override {
    return agreements_of(c_.run(sql::kAgreementForRealm, {realm}));
  }
  void billing_range(std::int64_t from_ms, std::int64_t to_ms,
                     const std::function<bool(const BillingRecord&)>& fn) override {
    // A cursor, so that an export of millions of records never sits in memory at once.
    c_.exec("BEGIN READ ONLY");
    try {
      c_.run(
          "DECLARE oag_range NO SCROLL CURSOR FOR SELECT chain, seq, time_ms, role, event, "
          "requester, subject, requester_realm, subject_realm, agreement, kind, count, "
          "unit_price_micros, currency, request_id, rand_sha256, outcome, prev_hash, hash, detail "
          "FROM billing WHERE time_ms >= $1 AND time_ms < $2 ORDER BY chain, seq",
          {from_ms, to_ms});
      bool more = true;
      while (more) {
        auto r = c_.run("FETCH 1000 FROM oag_range");
        if (r.rows() == 0) break;
        for (int i = 0; i < r.rows() && more; ++i) more = fn(read_billing(r, i));
      }
      c_.exec("COMMIT");
    } catch (...) {
      try {
        c_.exec("ROLLBACK");
      } catch (...) {
      }
      throw;
    }
  }
  std::vector<std::string> chains() override {
    auto r = c_.run(sql::kBillingChains);
    std::vector<std::string> v;
    for (int i = 0; i < r.rows(); ++i) v.push_back(r.text(i, 0));
    return v;
  }
  void billing_chain(const std::string& chain,
                     const std::function<void(const BillingRecord&)>& fn) override {
    auto r = c_.run(sql::kBillingChain, {chain});
    for (int i = 0; i < r.rows(); ++i) fn(read_billing(r, i));
  }
  bool cert_revoked(const std::string& serial) override {
    auto r = c_.run(sql::kCertRevoked, {serial});
    return r.rows() > 0 && r.boolean(0, 0);
  }
  std::vector<EndpointCert> certs(const std::string& nai) override {
    auto r = c_.run(sql::kCertList, {nai});
    std::vector<EndpointCert> v;
    for (int i = 0; i < r.rows(); ++i) v.push_back(read_cert(r, i));
    return v;
  }
  std::optional<EndpointCert> cert(const std::string& serial) override {
    auto r = c_.run(sql::kCertBySerial, {serial});
    if (r.rows() == 0) return std::nullopt;
    return read_cert(r, 0);
  }
  std::optional<std::vector<std::uint8_t>> password(std::int64_t subscriber) override {
    auto r = c_.run(sql::kPasswordGet, {subscriber});
    if (r.rows() == 0) return std::nullopt;
    return r.bytes(0, 0);
  }
  std::optional<LoginFailures> login_failures(const std::string& nai) override {
    auto r = c_.run(sql::kFailuresGet, {nai});
    if (r.rows() == 0) return std::nullopt;
    return read_failures(r);
  }
  bool login_nonce_seen(const std::string& nai, const aka::Bytes<16>& n1) override {
    return c_.run(sql::kNonceSeen, {nai, aka::ByteView(n1)}).rows() > 0;
  }
  std::optional<issuance::FedAnswer> federation_answer(const std::string& peer,
                                                       const std::string& request_id) override {
    auto r = c_.run(sql::kFedGet, {peer, request_id});
    if (r.rows() == 0) return std::nullopt;
    return issuance::FedAnswer{r.text(0, 0), r.bytes(0, 1)};
  }
  std::optional<engine::SessionRow> session(const std::string& id) override {
    auto r = c_.run(sql::kSessionGet, {id});
    if (r.rows() == 0) return std::nullopt;
    return engine::SessionRow{r.text(0, 0),  r.text(0, 1),  r.bytes(0, 2), r.text(0, 3),
                              r.int64(0, 4), r.int64(0, 5), r.text(0, 6)};
  }
  int schema_version() override { return schema_version_of(c_); }
  bool ping() override { return c_.run("SELECT 1").int64(0, 0) == 1; }
  bool usable() override { return c_.ok(); }

 private:
  static std::vector<Agreement> agreements_of(const PgResult& r) {
    std::vector<Agreement> v;
    for (int i = 0; i < r.rows(); ++i) v.push_back(read_agreement(r, i));
    return v;
  }
  PgConn c_;
};

// --- the database -----------------------------------------------------------------------------

void migrate(PgConn& c, const BackendConfig& cfg) {
  const int want = latest();
  int version = schema_version_of(c);
  if (version > want)
    throw StoreError(unavailable("the PostgreSQL database has schema version " +
                                 std::to_string(version) + ", newer than this build knows (" +
                                 std::to_string(want) + "); refusing to open it"));
  if (version == want) return;
  if (version == 0) {
    auto r = c.run(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename <> "
        "'oag_schema'");
    if (r.int64(0, 0) > 0)
      throw StoreError(unavailable(
          "the PostgreSQL database holds tables but no oag_schema: not an OAG database"));
  }
  if (version == 0 ? !(cfg.create || cfg.migrate) : !cfg.migrate)
    throw StoreError(unavailable(
        "the PostgreSQL database has schema version " + std::to_string(version) +
        ", this build needs " + std::to_string(want) +
        (version == 0 ? ": run oagctl init to create it" : ": run `oagctl db upgrade`")));
  for (const auto& m : kMigrations) {
    c.exec("BEGIN");
    try {
      c.run(kMigrationLock);
      c.exec(
          "CREATE TABLE IF NOT EXISTS oag_schema (version integer NOT NULL, applied_ms bigint "
          "NOT NULL)");
      if (schema_version_of(c) >= m.version) {  // another instance applied it meanwhile
        c.exec("COMMIT");
        continue;
      }
      c.exec(m.sql);
      c.run(
          "INSERT INTO oag_schema (version, applied_ms) VALUES ($1, (extract(epoch from now()) "
          "* 1000)::bigint)",
          {std::int64_t{m.version}});
      c.exec("COMMIT");
    } catch (const StoreError& e) {
      try {
        c.exec("ROLLBACK");
      } catch (...) {
      }
      throw StoreError(unavailable(std::string("migration ") + m.name + " failed: " + e.what()));
    }
  }
}

class PgDatabase final : public engine::Database {
 public:
  explicit PgDatabase(const BackendConfig& cfg) : cfg_(cfg) {
    try {
      PgConn c(cfg.path);
      migrate(c, cfg);
    } catch (const StoreError& e) {
      if (e.error().detail.find("does not exist") == std::string::npos) throw;
      throw StoreError(unavailable(e.error().detail +
                                   " (create the database, then run oagctl init to set it up)"));
    }
    writer_ = std::make_unique<Writer>(cfg);
  }
  engine::WriteConnection& writer() override { return *writer_; }
  std::unique_ptr<engine::ReadConnection> open_reader() override {
    return std::make_unique<Reader>(cfg_.path);
  }

 private:
  BackendConfig cfg_;
  std::unique_ptr<Writer> writer_;
};

}  // namespace

std::unique_ptr<Backend> open_postgresql_backend(const BackendConfig& cfg) {
  return engine::make_backend(std::make_unique<PgDatabase>(cfg), cfg);
}

int read_postgresql_schema_version(const BackendConfig& cfg) {
  PgConn c(cfg.path);
  return schema_version_of(c);
}

int latest_postgresql_schema() {
  return latest();
}

}  // namespace oag::storage::postgresql
