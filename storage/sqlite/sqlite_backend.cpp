#include "storage/sqlite/sqlite_backend.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "proto/aka/hex.hpp"
#include "proto/aka/rand_pool.hpp"
#include "storage/billing_chain.hpp"
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

constexpr const char* kMasterKeyMeta = "master_key_fingerprint";

std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string aad_k(const std::string& nai) {
  return "oag1/k/" + nai;
}
std::string aad_opc(const std::string& nai) {
  return "oag1/opc/" + nai;
}

Error unavailable(const std::string& what) {
  return {Errc::unavailable, what};
}

// --- statements, prepared once per connection ------------------------------------------------

struct WriteStatements {
  explicit WriteStatements(Db& db)
      : begin(db, sql::kBegin),
        commit(db, sql::kCommit),
        rollback(db, sql::kRollback),
        savepoint(db, sql::kSavepoint),
        release(db, sql::kRelease),
        rollback_to(db, sql::kRollbackTo),
        meta_put(db, sql::kMetaPut),
        sub_insert(db, sql::kSubscriberInsert),
        sub_keys(db, sql::kSubscriberKeys),
        sub_set_state(db, sql::kSubscriberSetState),
        sub_set_seq(db, sql::kSubscriberSetSeq),
        sub_step_seq(db, sql::kSubscriberStepSeq),
        sub_delete(db, sql::kSubscriberDelete),
        sub_all_keys(db, sql::kSubscriberAllKeys),
        sub_set_keys(db, sql::kSubscriberSetKeys),
        sub_by_nai(db, sql::kSubscriberByNai),
        vec_insert(db, sql::kVectorInsert),
        vec_by_id(db, sql::kVectorById),
        vec_set_outcome(db, sql::kVectorSetOutcome),
        vec_rand_exists(db, sql::kVectorRandExists),
        bought_insert(db, sql::kBoughtInsert),
        bought_by_id(db, sql::kBoughtById),
        bought_set_outcome(db, sql::kBoughtSetOutcome),
        agr_insert(db, sql::kAgreementInsert),
        agr_set_state(db, sql::kAgreementSetState),
        agr_by_id(db, sql::kAgreementById),
        bill_insert(db, sql::kBillingInsert),
        bill_head(db, sql::kBillingHead),
        fed_get(db, sql::kFedGet),
        fed_put(db, sql::kFedPut),
        cert_insert(db, sql::kCertInsert),
        cert_revoke_nai(db, sql::kCertRevokeNai),
        cert_revoke_serial(db, sql::kCertRevokeSerial),
        quota_get(db, sql::kQuotaGet),
        quota_add(db, sql::kQuotaAdd) {}
  Stmt begin, commit, rollback, savepoint, release, rollback_to, meta_put;
  Stmt sub_insert, sub_keys, sub_set_state, sub_set_seq, sub_step_seq, sub_delete, sub_all_keys,
      sub_set_keys, sub_by_nai;
  Stmt vec_insert, vec_by_id, vec_set_outcome, vec_rand_exists;
  Stmt bought_insert, bought_by_id, bought_set_outcome;
  Stmt agr_insert, agr_set_state, agr_by_id;
  Stmt bill_insert, bill_head;
  Stmt fed_get, fed_put;
  Stmt cert_insert, cert_revoke_nai, cert_revoke_serial;
  Stmt quota_get, quota_add;
};

struct Reader {
  explicit Reader(const std::string& path)
      : db(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX),
        sub_by_nai(db, sql::kSubscriberByNai),
        sub_list(db, sql::kSubscriberList),
        agr_by_id(db, sql::kAgreementById),
        agr_list(db, sql::kAgreementList),
        agr_for_realm(db, sql::kAgreementForRealm),
        bill_range(db, sql::kBillingRange),
        bill_all(db, sql::kBillingAll),
        cert_revoked(db, sql::kCertRevoked),
        cert_list(db, sql::kCertList) {
    db.exec("PRAGMA busy_timeout = 5000");
  }
  Db db;
  Stmt sub_by_nai, sub_list, agr_by_id, agr_list, agr_for_realm, bill_range, bill_all, cert_revoked,
      cert_list;
};

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

std::string join_realms(const std::vector<std::string>& realms) {
  std::string s = ",";
  for (const auto& r : realms) s += r + ",";
  return s;
}

std::vector<std::string> split_realms(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto end = s.find(',', start);
    const auto piece = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!piece.empty()) out.push_back(piece);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
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
  return a;
}

BillingRecord read_billing(const Stmt::Use& u) {
  BillingRecord r;
  r.seq = static_cast<std::uint64_t>(u.int64(0));
  r.time_ms = u.int64(1);
  const auto role = u.text(2);
  r.role = role == "sold" ? Role::sold : role == "bought" ? Role::bought : Role::local;
  r.event = u.text(3);
  r.requester = u.text(4);
  r.subject = u.text(5);
  r.requester_realm = u.text(6);
  r.subject_realm = u.text(7);
  r.agreement = u.text(8);
  r.kind = parse_billing_kind(u.text(9)).value_or(BillingKind::aka);
  r.count = static_cast<unsigned>(u.int64(10));
  r.unit_price_micros = u.int64(11);
  r.currency = u.text(12);
  r.request_id = u.text(13);
  r.rand_sha256 = u.text(14);
  r.outcome = u.text(15);
  r.prev_hash = u.text(16);
  r.hash = u.text(17);
  return r;
}

// --- validation -------------------------------------------------------------------------------

std::optional<Error> check_subscriber(const SubscriberInput& in) {
  const auto bad = [](std::string field, std::string why) {
    return Error{Errc::invalid, field + ": " + why};
  };
  if (!ident::valid_nai(in.nai)) return bad("nai", "expected user@realm without spaces or quotes");
  if (!ident::valid_imsi(in.imsi)) return bad("imsi", "expected 6 to 15 digits");
  try {
    in.keys.validate();
  } catch (const std::invalid_argument& e) {
    return bad("keys", e.what());
  }
  if (in.ind_len > aka::kMaxIndLen)
    return bad("ind_len", "at most " + std::to_string(aka::kMaxIndLen));
  if (in.kinds < 1 || in.kinds > 3) return bad("kinds", "sim, aka or both");
  if (in.seq_he > (aka::Sqn::kMax >> in.ind_len))
    return bad("sqn", "SEQ does not fit 48 bits with this IND length");
  if (in.state == State::revoked) return bad("state", "a subscriber is active or suspended");
  return std::nullopt;
}

std::optional<Error> check_agreement(const Agreement& a) {
  const auto bad = [](std::string field, std::string why) {
    return Error{Errc::invalid, field + ": " + why};
  };
  if (a.id.empty() || a.id.find_first_of(" ,\t\r\n") != std::string::npos)
    return bad("id", "non-empty, no spaces");
  if (a.peer_realms.empty()) return bad("peer_realms", "at least one realm");
  for (const auto& r : a.peer_realms)
    if (r.empty() || r.find_first_of(" ,@\t\r\n") != std::string::npos)
      return bad("peer_realms", "bad realm \"" + r + "\"");
  if (a.peer_url.rfind("https://", 0) != 0) return bad("peer_url", "must start with https://");
  if (a.trust_ca_file.empty() && a.trust_spki_sha256.empty())
    return bad("trust", "a CA file or an SPKI pin");
  if (!a.trust_spki_sha256.empty() &&
      (a.trust_spki_sha256.size() != 64 || !aka::from_hex(a.trust_spki_sha256)))
    return bad("trust_spki_sha256", "64 hex digits");
  if (a.kinds < 1 || a.kinds > 3) return bad("kinds", "sim, aka or both");
  if (!(a.rate_per_s > 0)) return bad("rate_per_s", "must be positive");
  if (a.burst < 1) return bad("burst", "at least 1");
  if (a.quota_period != "day" && a.quota_period != "month")
    return bad("quota_period", "day or month");
  if (a.price_micros < 0) return bad("price", "must not be negative");
  if (a.currency.size() != 3 ||
      a.currency.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
    return bad("currency", "three upper-case letters (ISO 4217)");
  if (a.valid_until_ms != 0 && a.valid_until_ms <= a.valid_from_ms)
    return bad("valid_until", "must follow valid_from");
  return std::nullopt;
}

// A UUIDv7 (RFC 9562): 48-bit Unix ms, then random bits. Time-ordered ids append to the
// index instead of touching a random page per insert.
std::string uuid_v7(std::int64_t now_ms, const aka::Bytes<16>& r) {
  auto b = r;
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(now_ms) >> (8 * (5 - i)));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const auto h = aka::to_hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

// --- jobs for the writer thread ---------------------------------------------------------------

// The convention every job body keeps: a *returned* Error means it wrote nothing; a *thrown*
// one (StoreError, SqliteError) means it may have written and its writes must be undone.
enum class RunOutcome { ok, failed_clean, failed_dirty };

class Job {
 public:
  virtual ~Job() = default;
  virtual RunOutcome run() noexcept = 0;
  // After the commit (nullptr) or with the reason the whole batch failed.
  virtual void finish(const Error* batch_failure) noexcept = 0;
};

Error from_exception() noexcept {
  try {
    throw;
  } catch (const StoreError& e) {
    return e.error();
  } catch (const SqliteError& e) {
    return unavailable(std::string("database: ") + e.what());
  } catch (const std::exception& e) {
    return unavailable(e.what());
  } catch (...) {
    return unavailable("unknown failure");
  }
}

template <typename T>
class FnJob final : public Job {
 public:
  FnJob(std::function<Result<T>()> fn, std::function<void(Result<T>)> done)
      : fn_(std::move(fn)), done_(std::move(done)) {}
  RunOutcome run() noexcept override {
    r_.reset();
    try {
      r_.emplace(fn_());
      return r_->ok() ? RunOutcome::ok : RunOutcome::failed_clean;
    } catch (...) {
      r_.emplace(from_exception());
      return RunOutcome::failed_dirty;
    }
  }
  void finish(const Error* batch_failure) noexcept override {
    try {
      if (batch_failure != nullptr || !r_)
        done_(Result<T>(batch_failure ? *batch_failure : unavailable("not run")));
      else
        done_(std::move(*r_));
    } catch (...) {
      // A completion that throws must not take the writer down.
    }
  }

 private:
  std::function<Result<T>()> fn_;
  std::function<void(Result<T>)> done_;
  std::optional<Result<T>> r_;
};

// --- the backend ------------------------------------------------------------------------------

class SqliteBackend final : public Backend, IssuanceStore, BillingStore {
 public:
  explicit SqliteBackend(const BackendConfig& cfg)
      : cfg_(cfg), key_(cfg.master_key), now_(cfg.now_ms ? cfg.now_ms : system_now_ms) {
    open_writer();
    writer_ = std::thread([this] { writer_loop(); });
    checkpointer_ = std::thread([this] { checkpoint_loop(); });
  }

  ~SqliteBackend() override {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    cv_checkpoint_.notify_all();
    writer_.join();
    checkpointer_.join();
    try {
      db_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (...) {
      // The WAL is checkpointed at the next open.
    }
  }

  SubscriberStore& subscribers() override { return subscribers_; }
  AgreementStore& agreements() override { return agreements_; }
  IssuanceStore& issuance() override { return *this; }
  EndpointStore& endpoints() override { return endpoints_; }
  BillingStore& billing() override { return *this; }

  int schema_version() override {
    auto r = lease();
    return static_cast<int>(r->db.query_int("PRAGMA user_version"));
  }

  bool healthy() override {
    try {
      auto r = lease();
      return r->db.query_int("SELECT 1") == 1;
    } catch (...) {
      return false;
    }
  }

  // --- subscribers ---

  Result<Subscriber> sub_add(const SubscriberInput& in) {
    return call<Subscriber>([this, &in]() -> Result<Subscriber> {
      if (auto e = check_subscriber(in)) return *e;
      insert_subscriber(in);
      auto u = ws_->sub_by_nai.use();
      u.bind(1, in.nai);
      u.step();
      return read_subscriber(u);
    });
  }

  Result<std::size_t> sub_import(const std::vector<SubscriberInput>& in) {
    return call<std::size_t>([this, &in]() -> Result<std::size_t> {
      for (std::size_t i = 0; i < in.size(); ++i)  // validate all before writing any
        if (auto e = check_subscriber(in[i]))
          return Error{e->code, "entry " + std::to_string(i + 1) + ": " + e->detail};
      for (std::size_t i = 0; i < in.size(); ++i) {
        try {
          insert_subscriber(in[i]);
        } catch (const StoreError& e) {  // thrown: the rows before it are undone
          throw StoreError(
              {e.error().code, "entry " + std::to_string(i + 1) + ": " + e.error().detail});
        }
      }
      return in.size();
    });
  }

  Result<Subscriber> sub_get(const std::string& nai) {
    try {
      auto r = lease();
      auto u = r->sub_by_nai.use();
      u.bind(1, nai);
      if (!u.step()) return Error{Errc::not_found, "no subscriber " + nai};
      return read_subscriber(u);
    } catch (...) {
      return from_exception();
    }
  }

  Result<std::vector<Subscriber>> sub_list(std::size_t offset, std::size_t limit) {
    try {
      auto r = lease();
      auto u = r->sub_list.use();
      u.bind(1, static_cast<std::int64_t>(limit)).bind(2, static_cast<std::int64_t>(offset));
      std::vector<Subscriber> v;
      while (u.step()) v.push_back(read_subscriber(u));
      return v;
    } catch (...) {
      return from_exception();
    }
  }

  Result<Done> sub_set_state(const std::string& nai, State s) {
    if (s == State::revoked)
      return Error{Errc::invalid, "state: a subscriber is active or suspended"};
    return update_one(&WriteStatements::sub_set_state, nai, to_string(s), "no subscriber " + nai);
  }

  Result<Done> sub_set_seq(const std::string& nai, std::uint64_t seq_he) {
    if (seq_he > aka::Sqn::kMax) return Error{Errc::invalid, "sqn: above 48 bits"};
    return call<Done>([this, nai, seq_he]() -> Result<Done> {
      auto u = ws_->sub_set_seq.use();
      u.bind(1, nai).bind(2, static_cast<std::int64_t>(seq_he));
      u.run();
      if (sqlite3_changes(db_->get()) != 1) return Error{Errc::not_found, "no subscriber " + nai};
      return Done{};
    });
  }

  Result<Done> sub_remove(const std::string& nai) {
    return call<Done>([this, nai]() -> Result<Done> {
      auto u = ws_->sub_delete.use();
      u.bind(1, nai);
      u.run();
      if (sqlite3_changes(db_->get()) != 1) return Error{Errc::not_found, "no subscriber " + nai};
      return Done{};
    });
  }

  Result<std::size_t> rotate_master_key(const MasterKey& next) {
    auto next_key = std::make_shared<const MasterKey>(next);
    std::promise<Result<std::size_t>> p;
    auto f = p.get_future();
    submit<std::size_t>(
        [this, next_key]() -> Result<std::size_t> {
          std::size_t n = 0;
          auto u = ws_->sub_all_keys.use();
          while (u.step()) {
            const auto nai = u.text(1);
            aka::SecretVec<64> k, opc;
            if (!key_->open(u.blob(2), aad_k(nai), k) || !key_->open(u.blob(3), aad_opc(nai), opc))
              throw StoreError(unavailable("subscriber " + nai +
                                           ": keys do not decrypt under the current master key"));
            auto w = ws_->sub_set_keys.use();
            w.bind(1, u.int64(0))
                .bind(2, aka::ByteView(next_key->seal(k.expose(), aad_k(nai))))
                .bind(3, aka::ByteView(next_key->seal(opc.expose(), aad_opc(nai))));
            w.run();
            ++n;
          }
          auto m = ws_->meta_put.use();
          m.bind(1, kMasterKeyMeta).bind(2, next_key->fingerprint());
          m.run();
          return n;
        },
        [this, next_key, &p](Result<std::size_t> r) {
          if (r.ok()) key_ = next_key;  // on the writer thread, after the commit
          p.set_value(std::move(r));
        });
    return f.get();
  }

  // --- agreements ---

  Result<Agreement> agr_add(const Agreement& a) {
    return call<Agreement>([this, &a]() -> Result<Agreement> {
      if (auto e = check_agreement(a)) return *e;
      auto u = ws_->agr_insert.use();
      u.bind(1, a.id)
          .bind(2, join_realms(a.peer_realms))
          .bind(3, a.peer_url)
          .bind(4, a.trust_ca_file);
      u.bind(5, a.trust_spki_sha256)
          .bind(6, static_cast<std::int64_t>(a.kinds))
          .bind(7, a.rate_per_s);
      u.bind(8, static_cast<std::int64_t>(a.burst))
          .bind(9, static_cast<std::int64_t>(a.quota))
          .bind(10, a.quota_period);
      u.bind(11, a.price_micros)
          .bind(12, a.currency)
          .bind(13, a.valid_from_ms)
          .bind(14, a.valid_until_ms);
      u.bind(15, to_string(a.state));
      try {
        u.run();
      } catch (const SqliteError& e) {
        if (e.is_constraint()) return Error{Errc::conflict, "id: agreement " + a.id + " exists"};
        throw;
      }
      return a;
    });
  }

  Result<Agreement> agr_get(const std::string& id) {
    try {
      auto r = lease();
      auto u = r->agr_by_id.use();
      u.bind(1, id);
      if (!u.step()) return Error{Errc::not_found, "no agreement " + id};
      return read_agreement(u);
    } catch (...) {
      return from_exception();
    }
  }

  Result<std::vector<Agreement>> agr_list() {
    try {
      auto r = lease();
      auto u = r->agr_list.use();
      std::vector<Agreement> v;
      while (u.step()) v.push_back(read_agreement(u));
      return v;
    } catch (...) {
      return from_exception();
    }
  }

  Result<std::vector<Agreement>> agr_for_realm(const std::string& realm) {
    try {
      auto r = lease();
      auto u = r->agr_for_realm.use();
      u.bind(1, realm);
      std::vector<Agreement> v;
      while (u.step()) v.push_back(read_agreement(u));
      return v;
    } catch (...) {
      return from_exception();
    }
  }

  Result<Done> agr_set_state(const std::string& id, State s) {
    return update_one(&WriteStatements::agr_set_state, id, to_string(s), "no agreement " + id);
  }

  // --- issuance ---

  void issue_async(IssueRequest req, IssueCallback done) override {
    auto shared = std::make_shared<IssueRequest>(std::move(req));
    submit<IssueResult>([this, shared]() { return do_issue(*shared); }, std::move(done));
  }

  void record_purchase_async(PurchaseRecord purchase,
                             std::function<void(Result<std::uint64_t>)> done) override {
    auto shared = std::make_shared<PurchaseRecord>(std::move(purchase));
    submit<std::uint64_t>(
        [this, shared]() -> Result<std::uint64_t> {
          const auto& p = *shared;
          if (p.count < 1 || p.count > kMaxCount)
            return Error{Errc::invalid, "count: must be 1.." + std::to_string(kMaxCount)};
          if (p.request_id.empty()) return Error{Errc::invalid, "request_id: required"};
          if (p.rands.size() != p.count) return Error{Errc::invalid, "rands: one per vector"};
          if (p.ids.size() != p.count) return Error{Errc::invalid, "ids: one per vector"};
          const std::int64_t now = now_();
          for (std::size_t i = 0; i < p.count; ++i) {
            auto u = ws_->bought_insert.use();
            u.bind(1, p.ids[i])
                .bind(2, p.agreement)
                .bind(3, p.subject)
                .bind(4, p.requester)
                .bind(5, std::string(to_string(p.kind)))
                .bind(6, aka::ByteView(p.rands[i]))
                .bind(7, p.request_id)
                .bind(8, now);
            try {
              u.run();
            } catch (const SqliteError& e) {
              if (!e.is_constraint()) throw;
              return Error{Errc::conflict, "ids: vector " + p.ids[i] + " was bought already"};
            }
          }
          BillingRecord b;
          b.time_ms = now;
          b.role = Role::bought;
          b.event = "issue";
          b.requester = p.requester;
          b.subject = p.subject;
          b.requester_realm = ident::realm_of(p.requester);
          b.subject_realm = ident::realm_of(p.subject);
          b.agreement = p.agreement;
          b.kind = billing_kind_of(p.kind);
          b.count = p.count;
          b.unit_price_micros = p.price_micros;
          b.currency = p.currency;
          b.request_id = p.request_id;
          b.rand_sha256 = rand_digest(p.rands);
          b.outcome = "issued";
          return append_billing(b);
        },
        std::move(done));
  }

  Result<Done> report_result(const std::string& vector_id, const std::string& requester,
                             bool success) override {
    return call<Done>([&]() -> Result<Done> {
      std::string kind, req_id, role, agreement, subject;
      aka::Bytes<16> rand{};
      // A vector this gateway issued to the requester, else one it bought for the requester
      // from a peer; both statements give the same columns.
      bool found = false, local = false;
      std::optional<Error> reported;
      const auto read = [&](Stmt::Use& u) {
        found = true;
        if (!u.is_null(6)) {
          reported = Error{Errc::conflict, "vector " + vector_id + ": result already reported"};
          return;
        }
        kind = u.text(0);
        const auto r = u.blob(1);
        std::copy_n(r.begin(), std::min<std::size_t>(16, r.size()), rand.begin());
        req_id = u.text(3);
        role = u.text(4);
        agreement = u.text(5);
        subject = u.text(7);
      };
      {
        auto u = ws_->vec_by_id.use();
        u.bind(1, vector_id);
        if (u.step() && u.text(2) == requester) {  // not theirs: as if not there
          local = true;
          read(u);
        }
      }
      if (!found) {
        auto u = ws_->bought_by_id.use();
        u.bind(1, vector_id).bind(2, requester);
        if (u.step()) read(u);
      }
      if (!found) return Error{Errc::not_found, "no vector " + vector_id};
      if (reported) return *reported;
      const char* outcome_text = success ? "success" : "failure";
      if (local) {
        auto s = ws_->vec_set_outcome.use();
        s.bind(1, vector_id).bind(2, outcome_text);
        s.run();
      } else {
        auto s = ws_->bought_set_outcome.use();
        s.bind(1, vector_id).bind(2, requester).bind(3, outcome_text);
        s.run();
      }
      BillingRecord b;
      b.time_ms = now_();
      b.role = role == "sold" ? Role::sold : role == "bought" ? Role::bought : Role::local;
      b.event = "result";
      b.requester = requester;
      b.subject = subject;
      b.requester_realm = ident::realm_of(requester);
      b.subject_realm = ident::realm_of(subject);
      b.agreement = agreement;
      b.kind = billing_kind_of(parse_kind(kind).value_or(Kind::aka));
      b.count = 0;  // the issue record carries the count; this one carries the outcome
      b.request_id = req_id;
      b.rand_sha256 = rand_digest({rand});
      b.outcome = outcome_text;
      append_billing(b);
      return Done{};
    });
  }

  Result<aka::Sqn> resync(const std::string& nai, const aka::Bytes<16>& rand,
                          const aka::Auts& auts) override {
    return call<aka::Sqn>([&]() -> Result<aka::Sqn> {
      auto sub = load_keys(nai);
      if (!sub.ok()) return sub.error();
      auto& s = sub.value();
      {
        auto u = ws_->vec_rand_exists.use();
        u.bind(1, s.id).bind(2, aka::ByteView(rand));
        if (!u.step()) return Error{Errc::invalid, "rand: not issued to " + nai};
      }
      const auto sqn_ms = aka::verify_auts(s.keys, rand, auts);
      if (!sqn_ms) return Error{Errc::bad_auts, "auts: MAC-S does not verify"};
      const std::uint64_t seq_ms = sqn_ms->seq(s.ind_len);
      if (seq_ms > s.seq_he) {
        auto u = ws_->sub_step_seq.use();
        u.bind(1, s.id)
            .bind(2, static_cast<std::int64_t>(seq_ms))
            .bind(3, static_cast<std::int64_t>(s.seq_he));
        u.run();
      }
      return *sqn_ms;
    });
  }

  // --- endpoint certificates ---

  Result<Done> cert_record(const EndpointCert& c) { return call<Done>(cert_insert_job(c)); }

  void cert_record_async(EndpointCert c, std::function<void(Result<Done>)> done) {
    submit<Done>(cert_insert_job(std::move(c)), std::move(done));
  }

  // One certificate row, in the writer's transaction (group-committed with what else is queued).
  std::function<Result<Done>()> cert_insert_job(EndpointCert c) {
    return [this, c = std::move(c)]() -> Result<Done> {
      if (c.serial.empty() || !aka::from_hex(c.serial))
        return Error{Errc::invalid, "serial: hex expected"};
      if (!ident::valid_nai(c.nai)) return Error{Errc::invalid, "nai: expected user@realm"};
      auto u = ws_->cert_insert.use();
      u.bind(1, c.serial)
          .bind(2, c.nai)
          .bind(3, c.not_after_ms)
          .bind(4, c.issued_ms ? c.issued_ms : now_());
      try {
        u.run();
      } catch (const SqliteError& e) {
        if (e.is_constraint()) return Error{Errc::conflict, "serial: " + c.serial + " exists"};
        throw;
      }
      return Done{};
    };
  }

  Result<std::size_t> cert_revoke(const std::string& nai, const std::string& serial) {
    return call<std::size_t>([this, nai, serial]() -> Result<std::size_t> {
      auto u = serial.empty() ? ws_->cert_revoke_nai.use() : ws_->cert_revoke_serial.use();
      u.bind(1, serial.empty() ? nai : serial).bind(2, now_());
      u.run();
      const auto n = static_cast<std::size_t>(sqlite3_changes(db_->get()));
      if (n == 0)
        return Error{Errc::not_found, serial.empty()
                                          ? "no unrevoked certificate for " + nai
                                          : "no unrevoked certificate with serial " + serial};
      return n;
    });
  }

  Result<bool> cert_is_revoked(const std::string& serial) {
    try {
      auto r = lease();
      auto u = r->cert_revoked.use();
      u.bind(1, serial);
      return u.step() && u.int64(0) != 0;
    } catch (...) {
      return from_exception();
    }
  }

  Result<std::vector<EndpointCert>> cert_list(const std::string& nai) {
    try {
      auto r = lease();
      auto u = r->cert_list.use();
      u.bind(1, nai);
      std::vector<EndpointCert> v;
      while (u.step()) {
        EndpointCert c{u.text(0), u.text(1), u.int64(2), u.int64(3), std::nullopt};
        if (!u.is_null(4)) c.revoked_ms = u.int64(4);
        v.push_back(std::move(c));
      }
      return v;
    } catch (...) {
      return from_exception();
    }
  }

  // --- billing ---

  Result<Done> for_each(std::int64_t from_ms, std::int64_t to_ms,
                        const std::function<bool(const BillingRecord&)>& fn) override {
    try {
      auto r = lease();
      auto u = r->bill_range.use();
      u.bind(1, from_ms).bind(2, to_ms);
      while (u.step())
        if (!fn(read_billing(u))) break;
      return Done{};
    } catch (...) {
      return from_exception();
    }
  }

  Result<ChainReport> verify() override {
    try {
      auto r = lease();
      auto u = r->bill_all.use();
      ChainReport rep;
      std::string prev = kGenesisHash;
      std::uint64_t expect = 1;
      while (u.step()) {
        const auto b = read_billing(u);
        const auto bad = [&](std::string why) {
          rep.first_bad = b.seq;
          rep.reason = std::move(why);
        };
        if (b.seq != expect)
          bad("sequence gap: expected " + std::to_string(expect) + ", found " +
              std::to_string(b.seq));
        else if (b.prev_hash != prev)
          bad("prev_hash does not match the previous record's hash");
        else if (chain_hash(prev, b) != b.hash)
          bad("hash does not match the record's content");
        if (rep.first_bad) return rep;
        prev = b.hash;
        ++expect;
        ++rep.records;
      }
      rep.head_hash = prev;
      return rep;
    } catch (...) {
      return from_exception();
    }
  }

  StoreStats stats() override {
    std::lock_guard lk(mu_);
    return {batches_, batched_, queue_.size(), batch_hist_};
  }

 private:
  struct Head {
    std::uint64_t seq = 0;
    std::string hash = kGenesisHash;
  };

  struct KeyedSubscriber {
    std::int64_t id = 0;
    aka::SubscriberKeys keys;
    aka::Bytes<2> amf{};
    std::uint64_t seq_he = 0;
    unsigned ind_len = 0;
    unsigned kinds = 0;
    State state = State::active;
  };

  class Lease {
   public:
    Lease(SqliteBackend& b, std::unique_ptr<Reader> r) : b_(b), r_(std::move(r)) {}
    ~Lease() {
      std::lock_guard lk(b_.readers_mu_);
      b_.readers_.push_back(std::move(r_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Reader* operator->() const { return r_.get(); }

   private:
    SqliteBackend& b_;
    std::unique_ptr<Reader> r_;
  };

  Lease lease() {
    {
      std::lock_guard lk(readers_mu_);
      if (!readers_.empty()) {
        auto r = std::move(readers_.back());
        readers_.pop_back();
        return Lease(*this, std::move(r));
      }
    }
    return Lease(*this, std::make_unique<Reader>(cfg_.path));
  }

  Result<Done> update_one(Stmt WriteStatements::*stmt, const std::string& key, std::string value,
                          std::string not_found) {
    return call<Done>([this, stmt, key, value, not_found]() -> Result<Done> {
      auto u = ((*ws_).*stmt).use();
      u.bind(1, key).bind(2, value);
      u.run();
      if (sqlite3_changes(db_->get()) != 1) return Error{Errc::not_found, not_found};
      return Done{};
    });
  }

  // Writer thread only.
  void insert_subscriber(const SubscriberInput& in) {
    auto u = ws_->sub_insert.use();
    u.bind(1, in.nai).bind(2, in.imsi).bind(3, aka::to_string(in.keys.algorithm));
    u.bind(4, aka::ByteView(key_->seal(in.keys.k.expose(), aad_k(in.nai))));
    u.bind(5, aka::ByteView(key_->seal(in.keys.opc.expose(), aad_opc(in.nai))));
    u.bind(6, static_cast<std::int64_t>(in.keys.tuak.res_len))
        .bind(7, static_cast<std::int64_t>(in.keys.tuak.iterations));
    u.bind(8, aka::ByteView(in.amf)).bind(9, static_cast<std::int64_t>(in.seq_he));
    u.bind(10, static_cast<std::int64_t>(in.ind_len)).bind(11, static_cast<std::int64_t>(in.kinds));
    u.bind(12, to_string(in.state)).bind(13, now_());
    try {
      u.run();
    } catch (const SqliteError& e) {
      if (!e.is_constraint()) throw;
      const std::string what = e.what();
      const bool imsi = what.find("subscribers.imsi") != std::string::npos;
      throw StoreError(
          {Errc::conflict, imsi ? "imsi: " + in.imsi + " exists" : "nai: " + in.nai + " exists"});
    }
  }

  // Writer thread only: the subscriber with decrypted keys.
  Result<KeyedSubscriber> load_keys(const std::string& nai) {
    auto u = ws_->sub_keys.use();
    u.bind(1, nai);
    if (!u.step()) return Error{Errc::not_found, "no subscriber " + nai};
    KeyedSubscriber s;
    s.id = u.int64(0);
    const auto algo = aka::parse_algorithm(u.text(1));
    if (!algo) return unavailable("subscriber " + nai + ": unknown algorithm in the database");
    aka::SecretVec<64> k, opc;
    if (!key_->open(u.blob(2), aad_k(nai), k) || !key_->open(u.blob(3), aad_opc(nai), opc))
      return unavailable("subscriber " + nai +
                         ": keys do not decrypt (wrong master key, or a row moved)");
    aka::tuak::Params tp;
    tp.res_len = static_cast<std::size_t>(u.int64(4));
    tp.iterations = static_cast<unsigned>(u.int64(5));
    try {
      s.keys = aka::SubscriberKeys::from_opc(*algo, k.expose(), opc.expose(), tp);
    } catch (const std::invalid_argument& e) {
      return unavailable("subscriber " + nai + ": stored keys unusable: " + e.what());
    }
    const auto amf = u.blob(6);
    if (amf.size() == 2) s.amf = {amf[0], amf[1]};
    s.seq_he = static_cast<std::uint64_t>(u.int64(7));
    s.ind_len = static_cast<unsigned>(u.int64(8));
    s.kinds = static_cast<unsigned>(u.int64(9));
    s.state = parse_state(u.text(10)).value_or(State::suspended);
    return s;
  }

  // Writer thread only.
  std::uint64_t append_billing(BillingRecord b) {
    b.seq = head_.seq + 1;
    b.prev_hash = head_.hash;
    b.hash = chain_hash(b.prev_hash, b);
    auto u = ws_->bill_insert.use();
    u.bind(1, static_cast<std::int64_t>(b.seq))
        .bind(2, b.time_ms)
        .bind(3, to_string(b.role))
        .bind(4, b.event);
    u.bind(5, b.requester).bind(6, b.subject).bind(7, b.requester_realm).bind(8, b.subject_realm);
    u.bind(9, b.agreement).bind(10, to_string(b.kind)).bind(11, static_cast<std::int64_t>(b.count));
    u.bind(12, b.unit_price_micros)
        .bind(13, b.currency)
        .bind(14, b.request_id)
        .bind(15, b.rand_sha256);
    u.bind(16, b.outcome).bind(17, b.prev_hash).bind(18, b.hash);
    u.run();
    head_ = {b.seq, b.hash};
    return b.seq;
  }

  static std::string request_fingerprint(const IssueRequest& r) {
    return r.subject + "|" + to_string(r.kind) + "|" + std::to_string(r.count) + "|" + r.requester;
  }

  static std::string serialize(const IssueResult& res) {
    nlohmann::json j;
    j["subject"] = res.subject;
    j["billing_seq"] = res.billing_seq;
    auto& vs = j["vectors"] = nlohmann::json::array();
    for (const auto& v : res.vectors) {
      vs.push_back({{"id", v.id},
                    {"kind", to_string(v.kind)},
                    {"rand", aka::to_hex(v.rand)},
                    {"expires_ms", v.expires_ms},
                    {"sqn", v.sqn.value},
                    {"autn", aka::to_hex(v.autn)},
                    {"xres", aka::to_hex(v.xres.expose())},
                    {"ck", aka::to_hex(v.ck.expose())},
                    {"ik", aka::to_hex(v.ik.expose())},
                    {"kc", aka::to_hex(v.kc.expose())}});
    }
    return j.dump();
  }

  static IssueResult deserialize(const std::string& s) {
    const auto j = nlohmann::json::parse(s);
    IssueResult res;
    res.subject = j.at("subject");
    res.billing_seq = j.at("billing_seq");
    res.replayed = true;
    for (const auto& e : j.at("vectors")) {
      IssuedVector v;
      v.id = e.at("id");
      v.kind = parse_kind(e.at("kind").get<std::string>()).value_or(Kind::aka);
      v.rand = *aka::from_hex_fixed<16>(e.at("rand").get<std::string>());
      v.expires_ms = e.at("expires_ms");
      v.sqn = aka::Sqn{e.at("sqn").get<std::uint64_t>()};
      v.autn = *aka::from_hex_fixed<16>(e.at("autn").get<std::string>());
      auto xres = aka::from_hex(e.at("xres").get<std::string>()).value();
      v.xres = aka::SecretVec<32>(xres);
      OPENSSL_cleanse(xres.data(), xres.size());
      v.ck = aka::Secret<16>(*aka::from_hex_fixed<16>(e.at("ck").get<std::string>()));
      v.ik = aka::Secret<16>(*aka::from_hex_fixed<16>(e.at("ik").get<std::string>()));
      v.kc = aka::Secret<8>(*aka::from_hex_fixed<8>(e.at("kc").get<std::string>()));
      res.vectors.push_back(std::move(v));
    }
    return res;
  }

  // Writer thread only: the whole issue transaction body (inside the request's savepoint).
  Result<IssueResult> do_issue(const IssueRequest& req) {
    if (req.count < 1 || req.count > kMaxCount)
      return Error{Errc::invalid, "count: must be 1.." + std::to_string(kMaxCount)};
    if (req.subject.empty()) return Error{Errc::invalid, "nai: required"};
    if (req.requester.empty()) return Error{Errc::invalid, "requester: required"};
    if (req.request_id.empty()) return Error{Errc::invalid, "request_id: required"};

    const std::string fed_aad = "oag1/fed/" + req.peer + "/" + req.request_id;
    if (!req.peer.empty()) {
      auto u = ws_->fed_get.use();
      u.bind(1, req.peer).bind(2, req.request_id);
      if (u.step()) {
        if (u.text(0) != request_fingerprint(req))
          return Error{Errc::conflict, "request_id: already used for a different request"};
        const auto sealed = u.blob(1);
        // The answer is larger than a key; open it into a plain buffer.
        std::string plain = open_large(sealed, fed_aad);
        auto res = deserialize(plain);
        OPENSSL_cleanse(plain.data(), plain.size());
        return res;
      }
    }

    auto loaded = load_keys(req.subject);
    if (!loaded.ok()) return loaded.error();
    const auto& s = loaded.value();
    if (s.state != State::active)
      return Error{Errc::disabled, "subscriber " + req.subject + " is not active"};
    if ((s.kinds & mask_of(req.kind)) == 0)
      return Error{Errc::not_allowed, std::string("kind: ") + to_string(req.kind) +
                                          " is not enabled for " + req.subject};
    if (req.kind == Kind::aka && cfg_.ind_slot >= (1u << s.ind_len))
      return unavailable("ind_slot " + std::to_string(cfg_.ind_slot) + " does not fit IND length " +
                         std::to_string(s.ind_len) + " of " + req.subject);

    if (req.kind == Kind::aka && s.seq_he + req.count > (aka::Sqn::kMax >> s.ind_len))
      return Error{Errc::exhausted, "subscriber " + req.subject + ": SEQ exhausted"};
    if (req.quota > 0) {
      auto u = ws_->quota_get.use();
      u.bind(1, req.agreement).bind(2, req.quota_period_start_ms);
      const std::uint64_t used = u.step() ? static_cast<std::uint64_t>(u.int64(0)) : 0;
      if (used + req.count > req.quota)
        return Error{Errc::quota_exhausted,
                     "agreement " + req.agreement + ": " + std::to_string(used) + " of " +
                         std::to_string(req.quota) + " vectors used this period"};
    }

    // From here on the request writes: failures are thrown (see RunOutcome).
    const std::int64_t now = now_();
    IssueResult res;
    res.subject = req.subject;
    std::vector<aka::Bytes<16>> rands;
    std::uint64_t seq = s.seq_he;
    for (unsigned i = 0; i < req.count; ++i) {
      IssuedVector v;
      v.id = uuid_v7(now, pool_.next());
      v.kind = req.kind;
      v.rand = pool_.next();
      v.expires_ms = now + cfg_.vector_ttl_ms;
      if (req.kind == Kind::aka) {
        ++seq;
        v.sqn = aka::Sqn::from_seq_ind(seq, cfg_.ind_slot, s.ind_len);
        auto q = aka::generate_quintet(s.keys, v.rand, v.sqn, s.amf);
        v.autn = q.autn;
        v.xres = q.xres;
        v.ck = q.ck;
        v.ik = q.ik;
      } else {
        auto t = aka::generate_triplet(s.keys, v.rand);
        v.xres = aka::SecretVec<32>(t.sres.expose());
        v.kc = t.kc;
      }
      auto u = ws_->vec_insert.use();
      u.bind(1, v.id).bind(2, s.id).bind(3, to_string(v.kind)).bind(4, aka::ByteView(v.rand));
      if (req.kind == Kind::aka)
        u.bind(5, static_cast<std::int64_t>(v.sqn.value));
      else
        u.bind_null(5);
      u.bind(6, req.requester)
          .bind(7, req.request_id)
          .bind(8, to_string(req.role))
          .bind(9, req.agreement);
      u.bind(10, now).bind(11, v.expires_ms);
      try {
        u.run();
      } catch (const SqliteError& e) {
        if (e.is_constraint())
          throw StoreError(unavailable("refused a repeated RAND or SQN for " + req.subject));
        throw;
      }
      rands.push_back(v.rand);
      res.vectors.push_back(std::move(v));
    }
    if (req.kind == Kind::aka) {
      auto u = ws_->sub_step_seq.use();
      u.bind(1, s.id)
          .bind(2, static_cast<std::int64_t>(seq))
          .bind(3, static_cast<std::int64_t>(s.seq_he));
      u.run();
      if (sqlite3_changes(db_->get()) != 1)
        throw StoreError(unavailable("SEQ of " + req.subject + " changed underneath"));
    }
    BillingRecord b;
    b.time_ms = now;
    b.role = req.role;
    b.event = "issue";
    b.requester = req.requester;
    b.subject = req.subject;
    b.requester_realm = ident::realm_of(req.requester);
    b.subject_realm = ident::realm_of(req.subject);
    b.agreement = req.agreement;
    b.kind = req.billed_as.value_or(billing_kind_of(req.kind));
    b.count = req.count;
    b.unit_price_micros = req.price_micros;
    b.currency = req.currency;
    b.request_id = req.request_id;
    b.rand_sha256 = rand_digest(rands);
    b.outcome = "issued";
    res.billing_seq = append_billing(b);
    if (req.quota > 0) {
      auto u = ws_->quota_add.use();
      u.bind(1, req.agreement)
          .bind(2, req.quota_period_start_ms)
          .bind(3, static_cast<std::int64_t>(req.count));
      u.run();
    }

    if (!req.peer.empty()) {
      std::string plain = serialize(res);
      const auto sealed = seal_large(plain, fed_aad);
      OPENSSL_cleanse(plain.data(), plain.size());
      auto u = ws_->fed_put.use();
      u.bind(1, req.peer)
          .bind(2, req.request_id)
          .bind(3, request_fingerprint(req))
          .bind(4, aka::ByteView(sealed));
      u.bind(5, now);
      u.run();
    }
    return res;
  }

  // A stored federation answer is longer than the 64-byte secret buffer MasterKey::open fills,
  // so it is sealed in 64-byte chunks, each bound to its position.
  std::vector<std::uint8_t> seal_large(const std::string& plain, const std::string& aad) {
    std::vector<std::uint8_t> out;
    for (std::size_t off = 0, i = 0; off < plain.size(); off += 64, ++i) {
      const auto n = std::min<std::size_t>(64, plain.size() - off);
      const auto part =
          key_->seal(aka::ByteView(reinterpret_cast<const std::uint8_t*>(plain.data()) + off, n),
                     aad + "/" + std::to_string(i));
      out.push_back(static_cast<std::uint8_t>(part.size()));
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  }

  std::string open_large(const std::vector<std::uint8_t>& sealed, const std::string& aad) {
    std::string plain;
    std::size_t off = 0;
    for (std::size_t i = 0; off < sealed.size(); ++i) {
      const std::size_t n = sealed[off++];
      if (off + n > sealed.size())
        throw StoreError(unavailable("stored federation answer is truncated"));
      aka::SecretVec<64> part;
      if (!key_->open(aka::ByteView(sealed.data() + off, n), aad + "/" + std::to_string(i), part))
        throw StoreError(unavailable("stored federation answer does not decrypt"));
      plain.append(reinterpret_cast<const char*>(part.data()), part.size());
      off += n;
    }
    return plain;
  }

  // --- writer thread and group commit ---

  template <typename T>
  void submit(std::function<Result<T>()> fn, std::function<void(Result<T>)> done) {
    {
      std::lock_guard lk(mu_);
      if (!stop_) {
        queue_.push_back(std::make_unique<FnJob<T>>(std::move(fn), std::move(done)));
        cv_.notify_one();
        return;
      }
    }
    done(Result<T>(unavailable("store is closing")));
  }

  template <typename T>
  Result<T> call(std::function<Result<T>()> fn) {
    std::promise<Result<T>> p;
    auto f = p.get_future();
    submit<T>(std::move(fn), [&p](Result<T> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  void writer_loop() {
    std::vector<std::unique_ptr<Job>> batch;
    for (;;) {
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and every queued request was served
        while (!queue_.empty() && batch.size() < cfg_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      run_batch(batch);
      batch.clear();
    }
  }

  // Group commit. The fast path runs the whole batch in one transaction without savepoints. If a
  // request fails after writing (rare: a constraint hit mid-request), the transaction is rolled
  // back and the batch runs again with a savepoint per request, so that request fails alone.
  // Nothing of the first attempt was returned, so running a request twice is harmless.
  void run_batch(std::vector<std::unique_ptr<Job>>& batch) {
    const Head start = head_;
    try {
      if (!run_transaction(batch, false)) {
        ws_->rollback.use().run();
        head_ = start;
        run_transaction(batch, true);
      }
    } catch (...) {
      const Error e = from_exception();
      try {
        if (!sqlite3_get_autocommit(db_->get())) ws_->rollback.use().run();
        load_head();
      } catch (...) {
      }
      for (auto& j : batch) j->finish(&e);
      return;
    }
    {
      std::lock_guard lk(mu_);
      ++batches_;
      batched_ += batch.size();
      std::size_t bucket = 0;
      while (bucket + 1 < batch_hist_.size() && (std::size_t{1} << bucket) < batch.size()) ++bucket;
      ++batch_hist_[bucket];
    }
    for (auto& j : batch) j->finish(nullptr);
  }

  // Runs every job and commits; false (uncommitted) when a job failed dirty without savepoints.
  bool run_transaction(std::vector<std::unique_ptr<Job>>& batch, bool savepoints) {
    ws_->begin.use().run();
    for (auto& j : batch) {
      if (!savepoints) {
        if (j->run() == RunOutcome::failed_dirty) return false;
        continue;
      }
      const Head before = head_;
      ws_->savepoint.use().run();
      if (j->run() == RunOutcome::failed_dirty) {
        ws_->rollback_to.use().run();  // only this request's writes go
        head_ = before;
      }
      ws_->release.use().run();
    }
    ws_->commit.use().run();
    return true;
  }

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
      cv_checkpoint_.wait_for(lk, std::chrono::milliseconds(200));
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

  void load_head() {
    auto u = ws_->bill_head.use();
    head_ = u.step() ? Head{static_cast<std::uint64_t>(u.int64(0)), u.text(1)} : Head{};
  }

  // --- open, create, migrate ---

  void open_writer() {
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
    ws_ = std::make_unique<WriteStatements>(*db_);
    check_master_key();
    load_head();
  }

  void migrate() {
    const int latest = latest_sqlite_schema();
    const int version = static_cast<int>(db_->query_int("PRAGMA user_version"));
    if (version > latest)
      throw StoreError({Errc::unavailable, "database " + cfg_.path + " has schema version " +
                                               std::to_string(version) +
                                               ", newer than this build knows (" +
                                               std::to_string(latest) + "); refusing to open it"});
    if (version == latest) return;
    const bool empty = db_->query_int("SELECT count(*) FROM sqlite_schema") == 0;
    if (version == 0 && !empty)
      throw StoreError({Errc::unavailable,
                        "database " + cfg_.path + " is not an OAG database (user_version 0)"});
    if (version == 0 ? !(cfg_.create || cfg_.migrate) : !cfg_.migrate)
      throw StoreError({Errc::unavailable, "database " + cfg_.path + " has schema version " +
                                               std::to_string(version) + ", this build needs " +
                                               std::to_string(latest) +
                                               ": run `oagctl db upgrade`"});
    for (const auto& m : kMigrations) {
      if (m.version <= version) continue;
      db_->exec("BEGIN IMMEDIATE");
      try {
        db_->exec(m.sql);
        db_->exec("PRAGMA user_version = " + std::to_string(m.version));
        db_->exec("COMMIT");
      } catch (const SqliteError& e) {
        db_->exec("ROLLBACK");
        throw StoreError(unavailable(std::string("migration ") + m.name + " failed: " + e.what()));
      }
    }
  }

  void check_master_key() {
    Stmt get(*db_, sql::kMetaGet);
    auto u = get.use();
    u.bind(1, kMasterKeyMeta);
    const std::string have = key_->fingerprint();
    if (!u.step()) {
      auto p = ws_->meta_put.use();
      p.bind(1, kMasterKeyMeta).bind(2, have);
      p.run();
      return;
    }
    if (u.text(0) != have)
      throw StoreError({Errc::unavailable, "the master key (fingerprint " + have +
                                               ") is not the one this database " +
                                               "was written with (" + u.text(0) + ")"});
  }

  // The subscriber and agreement interfaces share method names, so each gets a small adapter.
  class Subscribers final : public SubscriberStore {
   public:
    explicit Subscribers(SqliteBackend& b) : b_(b) {}
    Result<Subscriber> add(const SubscriberInput& in) override { return b_.sub_add(in); }
    Result<std::size_t> import(const std::vector<SubscriberInput>& in) override {
      return b_.sub_import(in);
    }
    Result<Subscriber> get(const std::string& nai) override { return b_.sub_get(nai); }
    Result<std::vector<Subscriber>> list(std::size_t offset, std::size_t limit) override {
      return b_.sub_list(offset, limit);
    }
    Result<Done> set_state(const std::string& nai, State s) override {
      return b_.sub_set_state(nai, s);
    }
    Result<Done> set_seq(const std::string& nai, std::uint64_t seq) override {
      return b_.sub_set_seq(nai, seq);
    }
    Result<Done> remove(const std::string& nai) override { return b_.sub_remove(nai); }
    Result<std::size_t> rotate_master_key(const MasterKey& next) override {
      return b_.rotate_master_key(next);
    }

   private:
    SqliteBackend& b_;
  };

  class Agreements final : public AgreementStore {
   public:
    explicit Agreements(SqliteBackend& b) : b_(b) {}
    Result<Agreement> add(const Agreement& a) override { return b_.agr_add(a); }
    Result<Agreement> get(const std::string& id) override { return b_.agr_get(id); }
    Result<std::vector<Agreement>> list() override { return b_.agr_list(); }
    Result<std::vector<Agreement>> for_realm(const std::string& realm) override {
      return b_.agr_for_realm(realm);
    }
    Result<Done> set_state(const std::string& id, State s) override {
      return b_.agr_set_state(id, s);
    }

   private:
    SqliteBackend& b_;
  };

  class Endpoints final : public EndpointStore {
   public:
    explicit Endpoints(SqliteBackend& b) : b_(b) {}
    Result<Done> record(const EndpointCert& c) override { return b_.cert_record(c); }
    void record_async(EndpointCert c, std::function<void(Result<Done>)> done) override {
      b_.cert_record_async(std::move(c), std::move(done));
    }
    Result<std::size_t> revoke(const std::string& nai, const std::string& serial) override {
      return b_.cert_revoke(nai, serial);
    }
    Result<bool> is_revoked(const std::string& serial) override {
      return b_.cert_is_revoked(serial);
    }
    Result<std::vector<EndpointCert>> list(const std::string& nai) override {
      return b_.cert_list(nai);
    }

   private:
    SqliteBackend& b_;
  };

  Subscribers subscribers_{*this};
  Agreements agreements_{*this};
  Endpoints endpoints_{*this};
  BackendConfig cfg_;
  std::shared_ptr<const MasterKey> key_;  // writer thread only after open
  std::function<std::int64_t()> now_;
  std::unique_ptr<Db> db_;  // the write connection: writer thread only
  std::unique_ptr<WriteStatements> ws_;
  Head head_;           // billing chain head: writer thread only
  aka::RandPool pool_;  // writer thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stop_ = false;
  std::uint64_t batches_ = 0;
  std::uint64_t batched_ = 0;
  std::array<std::uint64_t, 11> batch_hist_{};
  std::thread writer_;
  std::condition_variable cv_checkpoint_;
  std::thread checkpointer_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> readers_;
};

}  // namespace

std::unique_ptr<Backend> open_sqlite_backend(const BackendConfig& cfg) {
  return std::make_unique<SqliteBackend>(cfg);
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
