#pragma once
// What every store of the engine shares (internal to storage/engine): the database, the
// group-commit writer with the issuing rules, and the pool of reader connections.

#include <chrono>
#include <future>
#include <mutex>

#include "storage/engine/connection.hpp"
#include "storage/issuance/issuance.hpp"

namespace oag::storage::engine {

inline constexpr const char* kMasterKeyMeta = "master_key_fingerprint";

inline std::int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// What every store shares: the database, the writer and its rules, the reader pool.
class Core {
 public:
  Core(std::unique_ptr<Database> db, const BackendConfig& cfg)
      : db_(std::move(db)),
        now_(cfg.now_ms ? cfg.now_ms : system_now_ms),
        issuer_({cfg.ind_slot, cfg.vector_ttl_ms, cfg.instance, now_}, cfg.master_key),
        read_key_(cfg.master_key),
        login_nonce_ttl_ms_(cfg.login_nonce_ttl_ms),
        writer_(db_->writer(), cfg.max_batch, [this] { issuer_.invalidate(); }) {}

  Database& db() { return *db_; }
  /// The master key for readers (any thread); the writer's is issuer().key().
  std::shared_ptr<const MasterKey> read_key() const {
    std::lock_guard lk(key_mu_);
    return read_key_;
  }
  /// After a rotation committed.
  void set_read_key(std::shared_ptr<const MasterKey> k) {
    std::lock_guard lk(key_mu_);
    read_key_ = std::move(k);
  }
  issuance::Issuer& issuer() { return issuer_; }  // writer thread only
  WriteConnection& w() { return db_->writer(); }  // writer thread only
  std::int64_t now() const { return now_(); }

  // Queues `fn` on the writer; its undo puts back the chain head it found.
  template <typename T>
  void submit(std::function<Result<T>()> fn, std::function<void(Result<T>)> done,
              std::function<void()> hint = {}) {
    auto before = std::make_shared<std::optional<issuance::ChainHead>>();
    writer_.submit<T>(
        [this, before, fn = std::move(fn)]() {
          *before = issuer_.head();
          return fn();
        },
        std::move(done), [this, before] { issuer_.restore(*before); }, std::move(hint));
  }
  template <typename T>
  Result<T> call(std::function<Result<T>()> fn) {
    std::promise<Result<T>> p;
    auto f = p.get_future();
    submit<T>(std::move(fn), [&p](Result<T> r) { p.set_value(std::move(r)); });
    return f.get();
  }

  // Runs `fn` on a leased reader connection; a failure becomes an Error.
  template <typename T, typename F>
  Result<T> read(F&& fn) {
    std::unique_ptr<ReadConnection> c;
    try {
      c = lease();
      Result<T> r = fn(*c);
      give_back(std::move(c));
      return r;
    } catch (...) {
      if (c) give_back(std::move(c));
      return writer::error_of_current_exception();
    }
  }

  /// How long login nonces are kept.
  std::int64_t login_nonce_ttl_ms() const { return login_nonce_ttl_ms_; }

  StoreStats stats() const {
    const auto s = writer_.stats();
    StoreStats out{s.commits, s.requests, s.queued, s.batch_hist};
    out.commit_bounds = writer::kCommitBuckets;
    out.commit_hist = s.commit_hist;
    out.commit_seconds = s.commit_seconds;
    return out;
  }

 private:
  std::unique_ptr<ReadConnection> lease() {
    {
      std::lock_guard lk(readers_mu_);
      if (!readers_.empty()) {
        auto r = std::move(readers_.back());
        readers_.pop_back();
        return r;
      }
    }
    return db_->open_reader();
  }
  void give_back(std::unique_ptr<ReadConnection> c) {
    if (!c->usable()) return;  // a broken connection is closed; the next lease opens one
    std::lock_guard lk(readers_mu_);
    readers_.push_back(std::move(c));
  }

  std::unique_ptr<Database> db_;
  std::function<std::int64_t()> now_;
  issuance::Issuer issuer_;
  mutable std::mutex key_mu_;
  std::shared_ptr<const MasterKey> read_key_;
  std::int64_t login_nonce_ttl_ms_;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<ReadConnection>> readers_;
  writer::GroupCommitWriter writer_;  // last: stopped (and drained) first
};

/// A not_found error naming `field`.
inline Error not_found(std::string what, std::string field) {
  return {Errc::not_found, std::move(what), std::move(field)};
}

/// The login store over `core` (engine/logins.cpp).
std::unique_ptr<LoginStore> make_login_store(Core& core);
/// Re-seals every pwd_key and visitor session key from `from` to `to` (a master key rotation, in
/// its transaction); returns how many.
std::size_t rotate_login_secrets(WriteConnection& w, const MasterKey& from, const MasterKey& to);

}  // namespace oag::storage::engine
