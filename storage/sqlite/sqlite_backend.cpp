// The SQLite backend: the connections of engine/connection.hpp over one database file in WAL
// mode. One writer connection (the group-commit writer's), reader connections for lookups, and a
// checkpointer thread. Every rule is above, in engine/ and issuance/.
#include "storage/sqlite/sqlite_backend.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "storage/billing_chain.hpp"
#include "storage/engine/connection.hpp"
#include "storage/sqlite/db.hpp"
#include "storage/sqlite/statements.hpp"

namespace oag::storage::sqlite {

namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

constexpr Migration kMigrations[] = {
#include "sqlite_migrations.inc"
};

Error unavailable(const std::string& what) {
  return {Errc::unavailable, what};
}

std::int64_t i64(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

// --- row mapping ------------------------------------------------------------------------------

Subscriber read_subscriber(const Stmt::Use& u) {
  Subscriber s;
  s.id = u.int64(0);
  s.nai = u.text(1);
  s.imsi = u.text(2);
  s.algorithm = aka::parse_algorithm(u.text(3)).value_or(aka::Algorithm::milenage);
  const auto amf = u.blob(4);
  if (amf.size() == 2) s.amf = {amf[0], amf[1]};
  s.seq_he = static_cast<std::uint64_t>(u.int64(5));
  s.ind_len = static_cast<unsigned>(u.int64(6));
  s.kinds = static_cast<unsigned>(u.int64(7));
  s.state = parse_state(u.text(8)).value_or(State::suspended);
  s.created_ms = u.int64(9);
  return s;
}

Agreement read_agreement(const Stmt::Use& u) {
  Agreement a;
  a.id = u.text(0);
  a.peer_realms = split_realms(u.text(1));
  a.peer_url = u.text(2);
  a.trust_ca_file = u.text(3);
  a.trust_spki_sha256 = u.text(4);
  a.kinds = static_cast<unsigned>(u.int64(5));
  a.rate_per_s = u.real(6);
  a.burst = static_cast<unsigned>(u.int64(7));
  a.quota = static_cast<std::uint64_t>(u.int64(8));
  a.quota_period = u.text(9);
  a.price_micros = u.int64(10);
  a.currency = u.text(11);
  a.valid_from_ms = u.int64(12);
  a.valid_until_ms = u.int64(13);
  a.state = parse_state(u.text(14)).value_or(State::suspended);
  a.user_ca_file = u.text(15);
  return a;
}

BillingRecord read_billing(const Stmt::Use& u) {
  BillingRecord r;
  r.chain = u.text(0);
  r.seq = static_cast<std::uint64_t>(u.int64(1));
  r.time_ms = u.int64(2);
  r.role = parse_role(u.text(3)).value_or(Role::local);
  r.event = u.text(4);
  r.requester = u.text(5);
  r.subject = u.text(6);
  r.requester_realm = u.text(7);
  r.subject_realm = u.text(8);
  r.agreement = u.text(9);
  r.kind = parse_billing_kind(u.text(10)).value_or(BillingKind::aka);
  r.count = static_cast<unsigned>(u.int64(11));
  r.unit_price_micros = u.int64(12);
  r.currency = u.text(13);
  r.request_id = u.text(14);
  r.rand_sha256 = u.text(15);
  r.outcome = u.text(16);
  r.prev_hash = u.text(17);
  r.hash = u.text(18);
  r.detail = u.text(19);
  return r;
}

EndpointCert read_cert(const Stmt::Use& u) {
  EndpointCert c{u.text(0), u.text(1), u.int64(2), u.int64(3), std::nullopt, u.text(5)};
  if (!u.is_null(4)) c.revoked_ms = u.int64(4);
  return c;
}

engine::SessionRow read_session(const Stmt::Use& u) {
  return {u.text(0), u.text(1), u.blob(2), u.text(3), u.int64(4), u.int64(5), u.text(6)};
}

LoginFailures read_failures(const Stmt::Use& u) {
  return {static_cast<unsigned>(u.int64(0)), u.int64(1), u.int64(2)};
}

// --- the writer's connection ------------------------------------------------------------------

class Writer final : public engine::WriteConnection {
 public:
  explicit Writer(Db& db)
      : db_(db),
        begin_(db, sql::kBegin),
        commit_(db, sql::kCommit),
        rollback_(db, sql::kRollback),
        savepoint_(db, sql::kSavepoint),
        release_(db, sql::kRelease),
        rollback_to_(db, sql::kRollbackTo),
        meta_get_(db, sql::kMetaGet),
        meta_put_(db, sql::kMetaPut),
        sub_insert_(db, sql::kSubscriberInsert),
        imsi_taken_(db, sql::kImsiTaken),
        sub_by_nai_(db, sql::kSubscriberByNai),
        sub_keys_(db, sql::kSubscriberKeys),
        sub_set_state_(db, sql::kSubscriberSetState),
        sub_set_seq_(db, sql::kSubscriberSetSeq),
        slots_clear_(db, sql::kSlotsClear),
        slot_insert_(db, sql::kSlotInsert),
        slot_step_(db, sql::kSlotStep),
        slots_raise_(db, sql::kSlotsRaise),
        base_raise_(db, sql::kBaseRaise),
        sub_delete_(db, sql::kSubscriberDelete),
        sub_all_keys_(db, sql::kSubscriberAllKeys),
        sub_set_keys_(db, sql::kSubscriberSetKeys),
        vec_insert_(db, sql::kVectorInsert),
        vec_by_id_(db, sql::kVectorById),
        vec_set_outcome_(db, sql::kVectorSetOutcome),
        vec_rand_exists_(db, sql::kVectorRandExists),
        bought_insert_(db, sql::kBoughtInsert),
        bought_by_id_(db, sql::kBoughtById),
        bought_set_outcome_(db, sql::kBoughtSetOutcome),
        agr_insert_(db, sql::kAgreementInsert),
        agr_set_state_(db, sql::kAgreementSetState),
        bill_insert_(db, sql::kBillingInsert),
        bill_head_(db, sql::kBillingHead),
        fed_get_(db, sql::kFedGet),
        fed_put_(db, sql::kFedPut),
        cert_insert_(db, sql::kCertInsert),
        cert_revoke_nai_(db, sql::kCertRevokeNai),
        cert_revoke_serial_(db, sql::kCertRevokeSerial),
        quota_add_(db, sql::kQuotaAdd),
        pwd_get_(db, sql::kPasswordGet),
        pwd_put_(db, sql::kPasswordPut),
        pwd_delete_(db, sql::kPasswordDelete),
        pwd_all_(db, sql::kPasswordAll),
        pwd_set_(db, sql::kPasswordSet),
        session_all_(db, sql::kSessionAll),
        session_set_(db, sql::kSessionSet),
        fail_get_(db, sql::kFailuresGet),
        fail_put_(db, sql::kFailuresPut),
        fail_delete_(db, sql::kFailuresDelete),
        nonce_insert_(db, sql::kNonceInsert),
        nonce_purge_(db, sql::kNoncePurge),
        session_insert_(db, sql::kSessionInsert) {}

  // --- writer::Transactions ---
  void begin() override { begin_.use().run(); }
  void commit() override { commit_.use().run(); }
  void rollback() override {
    if (!sqlite3_get_autocommit(db_.get())) rollback_.use().run();
  }
  void savepoint() override { savepoint_.use().run(); }
  void release() override { release_.use().run(); }
  void rollback_to_savepoint() override { rollback_to_.use().run(); }
  void recover() noexcept override {
    try {
      rollback();
    } catch (...) {
      // The next BEGIN fails the same way and its batch is answered 503.
    }
  }

  // --- issuance::IssueTxn ---
  std::optional<issuance::KeyRow> subscriber_keys(const std::string& nai, unsigned ind) override {
    auto u = sub_keys_.use();
    u.bind(1, nai).bind(2, static_cast<std::int64_t>(ind));
    if (!u.step()) return std::nullopt;
    issuance::KeyRow r;
    r.id = u.int64(0);
    r.algorithm = u.text(1);
    r.k_enc = u.blob(2);
    r.opc_enc = u.blob(3);
    r.tuak_res_len = u.int64(4);
    r.tuak_iterations = u.int64(5);
    const auto amf = u.blob(6);
    if (amf.size() == 2) r.amf = {amf[0], amf[1]};
    r.seq_base = static_cast<std::uint64_t>(u.int64(7));
    r.ind_len = static_cast<unsigned>(u.int64(8));
    r.kinds = static_cast<unsigned>(u.int64(9));
    r.state = parse_state(u.text(10)).value_or(State::suspended);
    if (!u.is_null(11)) r.slot_seq = static_cast<std::uint64_t>(u.int64(11));
    return r;
  }
  issuance::IssueConflict write_issue(const std::vector<issuance::VectorRow>& vectors,
                                      const std::optional<issuance::SqnStep>& sqn,
                                      const BillingRecord& billing) override {
    for (const auto& v : vectors)
      if (!insert_vector(v)) return issuance::IssueConflict::vector;
    if (sqn && !step_sqn(sqn->subscriber, sqn->ind, sqn->expected, sqn->next))
      return issuance::IssueConflict::sqn;
    append_billing(billing);
    return issuance::IssueConflict::none;
  }
  bool step_sqn(std::int64_t subscriber, unsigned ind, std::optional<std::uint64_t> expected,
                std::uint64_t next) {
    if (!expected) {
      auto u = slot_insert_.use();
      u.bind(1, subscriber).bind(2, static_cast<std::int64_t>(ind)).bind(3, i64(next));
      u.run();
    } else {
      auto u = slot_step_.use();
      u.bind(1, subscriber)
          .bind(2, static_cast<std::int64_t>(ind))
          .bind(3, i64(*expected))
          .bind(4, i64(next));
      u.run();
    }
    return changes() == 1;
  }
  void raise_sqn(std::int64_t subscriber, std::uint64_t seq) override {
    for (Stmt* s : {&slots_raise_, &base_raise_}) {
      auto u = s->use();
      u.bind(1, subscriber).bind(2, i64(seq));
      u.run();
    }
  }
  bool insert_vector(const issuance::VectorRow& v) {
    auto u = vec_insert_.use();
    u.bind(1, v.id)
        .bind(2, v.subscriber_id)
        .bind(3, to_string(v.kind))
        .bind(4, aka::ByteView(v.rand));
    if (v.sqn)
      u.bind(5, i64(*v.sqn));
    else
      u.bind_null(5);
    u.bind(6, v.requester).bind(7, v.request_id).bind(8, to_string(v.role)).bind(9, v.agreement);
    u.bind(10, v.issued_ms).bind(11, v.expires_ms);
    u.run();
    return changes() == 1;
  }
  bool rand_issued(std::int64_t subscriber, const aka::Bytes<16>& rand) override {
    auto u = vec_rand_exists_.use();
    u.bind(1, subscriber).bind(2, aka::ByteView(rand));
    return u.step();
  }
  bool add_quota_use(const std::string& agreement, std::int64_t period_start_ms,
                     std::uint64_t count, std::uint64_t quota) override {
    auto u = quota_add_.use();
    u.bind(1, agreement).bind(2, period_start_ms).bind(3, i64(count)).bind(4, i64(quota));
    u.run();
    return changes() == 1;
  }
  issuance::ChainHead chain_head(const std::string& chain) override {
    auto u = bill_head_.use();
    u.bind(1, chain);
    if (!u.step()) return {0, kGenesisHash};
    return {static_cast<std::uint64_t>(u.int64(0)), u.text(1)};
  }
  void append_billing(const BillingRecord& b) override {
    auto u = bill_insert_.use();
    u.bind(1, b.chain).bind(2, i64(b.seq)).bind(3, b.time_ms).bind(4, to_string(b.role));
    u.bind(5, b.event).bind(6, b.requester).bind(7, b.subject).bind(8, b.requester_realm);
    u.bind(9, b.subject_realm).bind(10, b.agreement).bind(11, to_string(b.kind));
    u.bind(12, static_cast<std::int64_t>(b.count)).bind(13, b.unit_price_micros);
    u.bind(14, b.currency).bind(15, b.request_id).bind(16, b.rand_sha256).bind(17, b.outcome);
    u.bind(18, b.prev_hash).bind(19, b.hash).bind(20, b.detail);
    u.run();
  }
  std::optional<issuance::FedAnswer> federation_answer(const std::string& peer,
                                                       const std::string& request_id) override {
    auto u = fed_get_.use();
    u.bind(1, peer).bind(2, request_id);
    if (!u.step()) return std::nullopt;
    return issuance::FedAnswer{u.text(0), u.blob(1)};
  }
  bool put_federation_answer(const std::string& peer, const std::string& request_id,
                             const issuance::FedAnswer& a, std::int64_t now_ms) override {
    auto u = fed_put_.use();
    u.bind(1, peer).bind(2, request_id).bind(3, a.fingerprint).bind(4, aka::ByteView(a.sealed));
    u.bind(5, now_ms);
    u.run();
    return changes() == 1;
  }
  std::optional<issuance::VectorRef> vector_ref(const std::string& id,
                                                const std::string& requester) override {
    const auto read = [](Stmt::Use& u) {
      issuance::VectorRef r;
      r.kind = parse_kind(u.text(0)).value_or(Kind::aka);
      const auto rand = u.blob(1);
      std::copy_n(rand.begin(), std::min<std::size_t>(16, rand.size()), r.rand.begin());
      r.requester = u.text(2);
      r.request_id = u.text(3);
      r.role = parse_role(u.text(4)).value_or(Role::local);
      r.agreement = u.text(5);
      r.reported = !u.is_null(6);
      r.subject = u.text(7);
      return r;
    };
    {
      auto u = vec_by_id_.use();
      u.bind(1, id);
      if (u.step() && u.text(2) == requester) return read(u);  // not theirs: as if not there
    }
    auto u = bought_by_id_.use();
    u.bind(1, id).bind(2, requester);
    if (u.step()) return read(u);
    return std::nullopt;
  }
  void set_outcome(const std::string& id, const std::string& requester, Role role,
                   bool success) override {
    const char* outcome = success ? "success" : "failure";
    if (role == Role::bought) {
      auto u = bought_set_outcome_.use();
      u.bind(1, id).bind(2, requester).bind(3, outcome);
      u.run();
    } else {
      auto u = vec_set_outcome_.use();
      u.bind(1, id).bind(2, outcome);
      u.run();
    }
  }
  bool insert_bought(const issuance::BoughtRow& b) override {
    auto u = bought_insert_.use();
    u.bind(1, b.id).bind(2, b.agreement).bind(3, b.subject).bind(4, b.requester);
    u.bind(5, to_string(b.kind)).bind(6, aka::ByteView(b.rand)).bind(7, b.request_id);
    u.bind(8, b.issued_ms);
    u.run();
    return changes() == 1;
  }

  // --- administrative writes ---
  engine::Taken insert_subscriber(const engine::SubscriberRow& r) override {
    {
      auto u = sub_insert_.use();
      u.bind(1, r.nai).bind(3, r.algorithm).bind(4, aka::ByteView(r.k_enc));
      if (r.imsi.empty())
        u.bind_null(2);  // no SIM
      else
        u.bind(2, r.imsi);
      u.bind(5, aka::ByteView(r.opc_enc)).bind(6, r.tuak_res_len).bind(7, r.tuak_iterations);
      u.bind(8, aka::ByteView(r.amf)).bind(9, i64(r.seq_he));
      u.bind(10, static_cast<std::int64_t>(r.ind_len)).bind(11, static_cast<std::int64_t>(r.kinds));
      u.bind(12, to_string(r.state)).bind(13, r.created_ms);
      u.run();
      if (changes() == 1) return engine::Taken::none;
    }
    auto u = imsi_taken_.use();
    u.bind(1, r.imsi);
    return u.step() ? engine::Taken::imsi : engine::Taken::nai;
  }
  std::optional<Subscriber> subscriber(const std::string& nai) override {
    auto u = sub_by_nai_.use();
    u.bind(1, nai);
    if (!u.step()) return std::nullopt;
    return read_subscriber(u);
  }
  bool set_subscriber_state(const std::string& nai, State s) override {
    return update2(sub_set_state_, nai, to_string(s));
  }
  bool set_subscriber_seq(const std::string& nai, std::uint64_t seq) override {
    {
      auto u = sub_set_seq_.use();
      u.bind(1, nai).bind(2, i64(seq));
      u.run();
      if (changes() != 1) return false;
    }
    auto u = slots_clear_.use();
    u.bind(1, nai);
    u.run();
    return true;
  }
  bool delete_subscriber(const std::string& nai) override {
    auto u = sub_delete_.use();
    u.bind(1, nai);
    u.run();
    return changes() == 1;
  }
  std::vector<engine::SealedKeys> all_sealed_keys() override {
    std::vector<engine::SealedKeys> v;
    auto u = sub_all_keys_.use();
    while (u.step()) v.push_back({u.int64(0), u.text(1), u.blob(2), u.blob(3)});
    return v;
  }
  void set_sealed_keys(std::int64_t id, const std::vector<std::uint8_t>& k_enc,
                       const std::vector<std::uint8_t>& opc_enc) override {
    auto u = sub_set_keys_.use();
    u.bind(1, id).bind(2, aka::ByteView(k_enc)).bind(3, aka::ByteView(opc_enc));
    u.run();
  }
  std::optional<std::string> meta(const std::string& key) override {
    auto u = meta_get_.use();
    u.bind(1, key);
    if (!u.step()) return std::nullopt;
    return u.text(0);
  }
  void set_meta(const std::string& key, const std::string& value) override {
    auto u = meta_put_.use();
    u.bind(1, key).bind(2, value);
    u.run();
  }
  bool insert_agreement(const Agreement& a) override {
    auto u = agr_insert_.use();
    u.bind(1, a.id).bind(2, join_realms(a.peer_realms)).bind(3, a.peer_url);
    u.bind(4, a.trust_ca_file).bind(5, a.trust_spki_sha256);
    u.bind(6, static_cast<std::int64_t>(a.kinds)).bind(7, a.rate_per_s);
    u.bind(8, static_cast<std::int64_t>(a.burst)).bind(9, i64(a.quota)).bind(10, a.quota_period);
    u.bind(11, a.price_micros).bind(12, a.currency).bind(13, a.valid_from_ms);
    u.bind(14, a.valid_until_ms).bind(15, to_string(a.state)).bind(16, a.user_ca_file);
    u.run();
    return changes() == 1;
  }
  bool set_agreement_state(const std::string& id, State s) override {
    return update2(agr_set_state_, id, to_string(s));
  }
  bool insert_cert(const EndpointCert& c) override {
    auto u = cert_insert_.use();
    u.bind(1, c.serial).bind(2, c.nai).bind(3, c.not_after_ms).bind(4, c.issued_ms);
    u.bind(5, c.pem);
    u.run();
    return changes() == 1;
  }
  std::size_t revoke_certs(const std::string& nai, const std::string& serial,
                           std::int64_t now_ms) override {
    auto u = serial.empty() ? cert_revoke_nai_.use() : cert_revoke_serial_.use();
    u.bind(1, serial.empty() ? nai : serial).bind(2, now_ms);
    u.run();
    return static_cast<std::size_t>(changes());
  }

  // --- the roaming login ---
  std::optional<std::vector<std::uint8_t>> password(std::int64_t subscriber) override {
    auto u = pwd_get_.use();
    u.bind(1, subscriber);
    if (!u.step()) return std::nullopt;
    return u.blob(0);
  }
  void put_password(std::int64_t subscriber, const std::vector<std::uint8_t>& enc,
                    std::int64_t now_ms) override {
    auto u = pwd_put_.use();
    u.bind(1, subscriber).bind(2, aka::ByteView(enc)).bind(3, now_ms);
    u.run();
  }
  bool delete_password(std::int64_t subscriber) override {
    auto u = pwd_delete_.use();
    u.bind(1, subscriber);
    u.run();
    return changes() == 1;
  }
  std::vector<engine::SealedBlob> all_sealed_passwords() override {
    std::vector<engine::SealedBlob> v;
    auto u = pwd_all_.use();
    while (u.step()) v.push_back({std::to_string(u.int64(0)), u.text(1), u.blob(2)});
    return v;
  }
  void set_sealed_password(const std::string& key, const std::vector<std::uint8_t>& enc) override {
    auto u = pwd_set_.use();
    u.bind(1, static_cast<std::int64_t>(std::stoll(key))).bind(2, aka::ByteView(enc));
    u.run();
  }
  std::vector<engine::SealedBlob> all_sealed_sessions() override {
    std::vector<engine::SealedBlob> v;
    auto u = session_all_.use();
    while (u.step()) v.push_back({u.text(0), u.text(0), u.blob(1)});
    return v;
  }
  void set_sealed_session(const std::string& id, const std::vector<std::uint8_t>& enc) override {
    auto u = session_set_.use();
    u.bind(1, id).bind(2, aka::ByteView(enc));
    u.run();
  }
  std::optional<LoginFailures> login_failures(const std::string& nai) override {
    auto u = fail_get_.use();
    u.bind(1, nai);
    if (!u.step()) return std::nullopt;
    return read_failures(u);
  }
  void put_login_failures(const std::string& nai, const LoginFailures& f) override {
    auto u = fail_put_.use();
    u.bind(1, nai).bind(2, static_cast<std::int64_t>(f.failures)).bind(3, f.window_start_ms);
    u.bind(4, f.locked_until_ms);
    u.run();
  }
  void delete_login_failures(const std::string& nai) override {
    auto u = fail_delete_.use();
    u.bind(1, nai);
    u.run();
  }
  bool insert_login_nonce(const std::string& nai, const aka::Bytes<16>& n1,
                          std::int64_t time_ms) override {
    auto u = nonce_insert_.use();
    u.bind(1, nai).bind(2, aka::ByteView(n1)).bind(3, time_ms);
    u.run();
    return changes() == 1;
  }
  void purge_login_nonces(std::int64_t before_ms) override {
    auto u = nonce_purge_.use();
    u.bind(1, before_ms);
    u.run();
  }
  bool insert_session(const engine::SessionRow& r) override {
    auto u = session_insert_.use();
    u.bind(1, r.id).bind(2, r.nai).bind(3, aka::ByteView(r.ks2_enc)).bind(4, r.agreement);
    u.bind(5, r.created_ms).bind(6, r.expires_ms).bind(7, r.certificate);
    u.run();
    return changes() == 1;
  }

 private:
  int changes() const { return sqlite3_changes(db_.get()); }
  bool update2(Stmt& s, const std::string& key, const char* value) {
    auto u = s.use();
    u.bind(1, key).bind(2, value);
    u.run();
    return changes() == 1;
  }

  Db& db_;
  Stmt begin_, commit_, rollback_, savepoint_, release_, rollback_to_;
  Stmt meta_get_, meta_put_;
  Stmt sub_insert_, imsi_taken_, sub_by_nai_, sub_keys_, sub_set_state_, sub_set_seq_;
  Stmt slots_clear_, slot_insert_, slot_step_, slots_raise_, base_raise_;
  Stmt sub_delete_, sub_all_keys_, sub_set_keys_;
  Stmt vec_insert_, vec_by_id_, vec_set_outcome_, vec_rand_exists_;
  Stmt bought_insert_, bought_by_id_, bought_set_outcome_;
  Stmt agr_insert_, agr_set_state_;
  Stmt bill_insert_, bill_head_;
  Stmt fed_get_, fed_put_;
  Stmt cert_insert_, cert_revoke_nai_, cert_revoke_serial_;
  Stmt quota_add_;
  Stmt pwd_get_, pwd_put_, pwd_delete_, pwd_all_, pwd_set_, session_all_, session_set_;
  Stmt fail_get_, fail_put_, fail_delete_, nonce_insert_, nonce_purge_, session_insert_;
};

// --- reader connections -----------------------------------------------------------------------

class Reader final : public engine::ReadConnection {
 public:
  explicit Reader(const std::string& path)
      : db_(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX),
        sub_by_nai_(db_, sql::kSubscriberByNai),
        sub_list_(db_, sql::kSubscriberList),
        agr_by_id_(db_, sql::kAgreementById),
        agr_list_(db_, sql::kAgreementList),
        agr_for_realm_(db_, sql::kAgreementForRealm),
        bill_range_(db_, sql::kBillingRange),
        bill_chain_(db_, sql::kBillingChain),
        bill_chains_(db_, sql::kBillingChains),
        cert_revoked_(db_, sql::kCertRevoked),
        cert_list_(db_, sql::kCertList),
        cert_by_serial_(db_, sql::kCertBySerial),
        pwd_get_(db_, sql::kPasswordGet),
        fail_get_(db_, sql::kFailuresGet),
        nonce_seen_(db_, sql::kNonceSeen),
        fed_get_(db_, sql::kFedGet),
        session_get_(db_, sql::kSessionGet) {
    db_.exec("PRAGMA busy_timeout = 5000");
  }

  std::optional<Subscriber> subscriber(const std::string& nai) override {
    auto u = sub_by_nai_.use();
    u.bind(1, nai);
    if (!u.step()) return std::nullopt;
    return read_subscriber(u);
  }
  std::vector<Subscriber> subscribers(std::size_t offset, std::size_t limit) override {
    auto u = sub_list_.use();
    u.bind(1, static_cast<std::int64_t>(limit)).bind(2, static_cast<std::int64_t>(offset));
    std::vector<Subscriber> v;
    while (u.step()) v.push_back(read_subscriber(u));
    return v;
  }
  std::optional<Agreement> agreement(const std::string& id) override {
    auto u = agr_by_id_.use();
    u.bind(1, id);
    if (!u.step()) return std::nullopt;
    return read_agreement(u);
  }
  std::vector<Agreement> agreements() override {
    auto u = agr_list_.use();
    std::vector<Agreement> v;
    while (u.step()) v.push_back(read_agreement(u));
    return v;
  }
  std::vector<Agreement> agreements_for_realm(const std::string& realm) override {
    auto u = agr_for_realm_.use();
    u.bind(1, realm);
    std::vector<Agreement> v;
    while (u.step()) v.push_back(read_agreement(u));
    return v;
  }
  void billing_range(std::int64_t from_ms, std::int64_t to_ms,
                     const std::function<bool(const BillingRecord&)>& fn) override {
    auto u = bill_range_.use();
    u.bind(1, from_ms).bind(2, to_ms);
    while (u.step())
      if (!fn(read_billing(u))) break;
  }
  std::vector<std::string> chains() override {
    auto u = bill_chains_.use();
    std::vector<std::string> v;
    while (u.step()) v.push_back(u.text(0));
    return v;
  }
  void billing_chain(const std::string& chain,
                     const std::function<void(const BillingRecord&)>& fn) override {
    auto u = bill_chain_.use();
    u.bind(1, chain);
    while (u.step()) fn(read_billing(u));
  }
  bool cert_revoked(const std::string& serial) override {
    auto u = cert_revoked_.use();
    u.bind(1, serial);
    return u.step() && u.int64(0) != 0;
  }
  std::vector<EndpointCert> certs(const std::string& nai) override {
    auto u = cert_list_.use();
    u.bind(1, nai);
    std::vector<EndpointCert> v;
    while (u.step()) v.push_back(read_cert(u));
    return v;
  }
  std::optional<EndpointCert> cert(const std::string& serial) override {
    auto u = cert_by_serial_.use();
    u.bind(1, serial);
    if (!u.step()) return std::nullopt;
    return read_cert(u);
  }
  std::optional<std::vector<std::uint8_t>> password(std::int64_t subscriber) override {
    auto u = pwd_get_.use();
    u.bind(1, subscriber);
    if (!u.step()) return std::nullopt;
    return u.blob(0);
  }
  std::optional<LoginFailures> login_failures(const std::string& nai) override {
    auto u = fail_get_.use();
    u.bind(1, nai);
    if (!u.step()) return std::nullopt;
    return read_failures(u);
  }
  bool login_nonce_seen(const std::string& nai, const aka::Bytes<16>& n1) override {
    auto u = nonce_seen_.use();
    u.bind(1, nai).bind(2, aka::ByteView(n1));
    return u.step();
  }
  std::optional<issuance::FedAnswer> federation_answer(const std::string& peer,
                                                       const std::string& request_id) override {
    auto u = fed_get_.use();
    u.bind(1, peer).bind(2, request_id);
    if (!u.step()) return std::nullopt;
    return issuance::FedAnswer{u.text(0), u.blob(1)};
  }
  std::optional<engine::SessionRow> session(const std::string& id) override {
    auto u = session_get_.use();
    u.bind(1, id);
    if (!u.step()) return std::nullopt;
    return read_session(u);
  }
  int schema_version() override { return static_cast<int>(db_.query_int("PRAGMA user_version")); }
  bool ping() override { return db_.query_int("SELECT 1") == 1; }
  bool usable() override { return true; }

 private:
  Db db_;
  Stmt sub_by_nai_, sub_list_, agr_by_id_, agr_list_, agr_for_realm_, bill_range_, bill_chain_,
      bill_chains_, cert_revoked_, cert_list_, cert_by_serial_, pwd_get_, fail_get_, nonce_seen_,
      fed_get_, session_get_;
};

// --- the database -----------------------------------------------------------------------------

class SqliteDatabase final : public engine::Database {
 public:
  explicit SqliteDatabase(const BackendConfig& cfg) : cfg_(cfg) {
    const int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (cfg_.create ? SQLITE_OPEN_CREATE : 0);
    try {
      db_ = std::make_unique<Db>(cfg_.path, flags);
    } catch (const SqliteError& e) {
      throw StoreError(unavailable(std::string(e.what()) +
                                   (cfg_.create ? "" : " (run oagctl init to create it)")));
    }
    db_->exec("PRAGMA busy_timeout = 5000");
    db_->exec("PRAGMA foreign_keys = ON");
    db_->exec("PRAGMA journal_mode = WAL");
    db_->exec(cfg_.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = OFF");
    db_->exec("PRAGMA wal_autocheckpoint = 0");  // see checkpoint_loop
    db_->exec("PRAGMA cache_size = -65536");     // 64 MiB: the hot pages stay in memory
    migrate();
    writer_ = std::make_unique<Writer>(*db_);
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
  }

  ~SqliteDatabase() override {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    checkpointer_.join();
    writer_.reset();
    try {
      db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (...) {
      // The WAL is checkpointed at the next open.
    }
  }

  engine::WriteConnection& writer() override { return *writer_; }
  std::unique_ptr<engine::ReadConnection> open_reader() override {
    return std::make_unique<Reader>(cfg_.path);
  }

 private:
  // Checkpoints run here, on their own connection, rather than inside the writer's COMMIT
  // (SQLite's auto-checkpoint), so a commit never waits for pages to be copied into the file.
  void checkpoint_loop() {
    std::unique_ptr<Db> db;
    try {
      db = std::make_unique<Db>(cfg_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
      db->exec("PRAGMA busy_timeout = 1000");
    } catch (...) {
      return;
    }
    std::unique_lock lk(mu_);
    while (!stop_) {
      cv_.wait_for(lk, std::chrono::milliseconds(200));
      if (stop_) break;
      lk.unlock();
      try {
        db->exec("PRAGMA wal_checkpoint(PASSIVE)");
      } catch (...) {
        // Busy or failing: the next round (or the writer at close) tries again.
      }
      lk.lock();
    }
  }

  void migrate() {
    const int latest = latest_sqlite_schema();
    const int version = static_cast<int>(db_->query_int("PRAGMA user_version"));
    if (version > latest)
      throw StoreError(unavailable("database " + cfg_.path + " has schema version " +
                                   std::to_string(version) + ", newer than this build knows (" +
                                   std::to_string(latest) + "); refusing to open it"));
    if (version == latest) return;
    const bool empty = db_->query_int("SELECT count(*) FROM sqlite_schema") == 0;
    if (version == 0 && !empty)
      throw StoreError(
          unavailable("database " + cfg_.path + " is not an OAG database (user_version 0)"));
    if (version == 0 ? !(cfg_.create || cfg_.migrate) : !cfg_.migrate)
      throw StoreError(unavailable("database " + cfg_.path + " has schema version " +
                                   std::to_string(version) + ", this build needs " +
                                   std::to_string(latest) + ": run `oagctl db upgrade`"));
    // A migration may rebuild a table that others refer to (SQLite's way to change a column):
    // enforcement is off while it runs (it cannot change inside a transaction), and every
    // reference is checked before it commits.
    db_->exec("PRAGMA foreign_keys = OFF");
    for (const auto& m : kMigrations) {
      if (m.version <= version) continue;
      db_->exec("BEGIN IMMEDIATE");
      try {
        db_->exec(m.sql);
        if (db_->query_int("SELECT count(*) FROM pragma_foreign_key_check") != 0)
          throw SqliteError("a row refers to one that the migration dropped", SQLITE_CONSTRAINT);
        db_->exec("PRAGMA user_version = " + std::to_string(m.version));
        db_->exec("COMMIT");
      } catch (const SqliteError& e) {
        db_->exec("ROLLBACK");
        db_->exec("PRAGMA foreign_keys = ON");
        throw StoreError(unavailable(std::string("migration ") + m.name + " failed: " + e.what()));
      }
    }
    db_->exec("PRAGMA foreign_keys = ON");
  }

  BackendConfig cfg_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Writer> writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread checkpointer_;
};

}  // namespace

std::unique_ptr<Backend> open_sqlite_backend(const BackendConfig& cfg) {
  return engine::make_backend(std::make_unique<SqliteDatabase>(cfg), cfg);
}

int read_sqlite_schema_version(const BackendConfig& cfg) {
  try {
    Db db(cfg.path, SQLITE_OPEN_READONLY);
    return static_cast<int>(db.query_int("PRAGMA user_version"));
  } catch (const SqliteError& e) {
    if ((e.code() & 0xff) == SQLITE_CANTOPEN) return 0;
    throw StoreError(unavailable(e.what()));
  }
}

int latest_sqlite_schema() {
  int v = 0;
  for (const auto& m : kMigrations) v = std::max(v, m.version);
  return v;
}

}  // namespace oag::storage::sqlite
