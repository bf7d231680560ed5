#pragma once
// The abstract stores and the factory keyed by backend name (Kea's pattern): the daemon and the
// CLI see only these interfaces; the backends are "sqlite" and "postgresql".

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/master_key.hpp"
#include "storage/result.hpp"
#include "storage/types.hpp"

namespace oag::storage {

/// Subscribers and their encrypted keys.
class SubscriberStore {
 public:
  virtual ~SubscriberStore() = default;
  /// Adds one subscriber (conflict when the NAI or IMSI exists).
  virtual Result<Subscriber> add(const SubscriberInput& in) = 0;
  /// Adds all of `in` in one transaction, or none (the error names the failing entry's index).
  virtual Result<std::size_t> import(const std::vector<SubscriberInput>& in) = 0;
  /// Reads one subscriber, without keys.
  virtual Result<Subscriber> get(const std::string& nai) = 0;
  /// Lists subscribers ordered by NAI, `limit` from `offset`.
  virtual Result<std::vector<Subscriber>> list(std::size_t offset, std::size_t limit) = 0;
  /// Sets a subscriber's state.
  virtual Result<Done> set_state(const std::string& nai, State s) = 0;
  /// Sets the stored SQN (SEQ_HE), e.g. after a SIM was re-personalised.
  virtual Result<Done> set_seq(const std::string& nai, std::uint64_t seq_he) = 0;
  /// Deletes a subscriber (its vectors go with it; billing stays).
  virtual Result<Done> remove(const std::string& nai) = 0;
  /// Re-encrypts every subscriber's keys under `next` in one transaction, then uses it.
  virtual Result<std::size_t> rotate_master_key(const MasterKey& next) = 0;
};

/// Agreements with peer operators.
class AgreementStore {
 public:
  virtual ~AgreementStore() = default;
  /// Adds an agreement (conflict when the id exists).
  virtual Result<Agreement> add(const Agreement& a) = 0;
  /// Reads one agreement.
  virtual Result<Agreement> get(const std::string& id) = 0;
  /// All agreements, ordered by id.
  virtual Result<std::vector<Agreement>> list() = 0;
  /// The agreements naming `realm` (any state; the caller checks state and dates).
  virtual Result<std::vector<Agreement>> for_realm(const std::string& realm) = 0;
  /// Sets an agreement's state.
  virtual Result<Done> set_state(const std::string& id, State s) = 0;
};

/// Issuing vectors, their outcomes, and resynchronisation: each call is one transaction.
class IssuanceStore {
 public:
  virtual ~IssuanceStore() = default;
  /// Completion callback, called on a store thread after the commit (or failure).
  using IssueCallback = std::function<void(Result<IssueResult>)>;
  /// Issues vectors; `done` runs after the transaction committed. Never blocks the caller.
  virtual void issue_async(IssueRequest req, IssueCallback done) = 0;
  /// Issues vectors and waits for the commit.
  Result<IssueResult> issue(IssueRequest req);
  /// Records a purchase from a peer as a `bought` billing record; `done` runs after the commit.
  virtual void record_purchase_async(PurchaseRecord p,
                                     std::function<void(Result<std::uint64_t>)> done) = 0;
  /// Records an endpoint's success/failure report for one vector it was issued.
  virtual Result<Done> report_result(const std::string& vector_id, const std::string& requester,
                                     bool success) = 0;
  /// Verifies AUTS for a RAND issued to `nai` and moves SEQ_HE past SQN_MS; returns SQN_MS.
  virtual Result<aka::Sqn> resync(const std::string& nai, const aka::Bytes<16>& rand,
                                  const aka::Auts& auts) = 0;
};

/// The billing log.
class BillingStore {
 public:
  virtual ~BillingStore() = default;
  /// Calls `fn` for each record with from_ms <= time < to_ms in sequence order; stops when fn
  /// returns false.
  virtual Result<Done> for_each(std::int64_t from_ms, std::int64_t to_ms,
                                const std::function<bool(const BillingRecord&)>& fn) = 0;
  /// Walks every chain (one per instance): sequence gap-free from 1, every hash recomputed.
  virtual Result<BillingReport> verify() = 0;
};

/// Endpoint certificates: issued, revoked.
class EndpointStore {
 public:
  virtual ~EndpointStore() = default;
  /// Records a newly issued certificate (conflict when the serial exists).
  virtual Result<Done> record(const EndpointCert& c) = 0;
  /// Records `c` through the writer's group commit; `done` runs after the commit (any thread).
  virtual void record_async(EndpointCert c, std::function<void(Result<Done>)> done) = 0;
  /// Revokes every unrevoked certificate of `nai`, or the one `serial` when not empty;
  /// returns how many were revoked (not_found when none matched).
  virtual Result<std::size_t> revoke(const std::string& nai, const std::string& serial) = 0;
  /// True when `serial` was revoked.
  virtual Result<bool> is_revoked(const std::string& serial) = 0;
  /// The certificates of `nai` (all when empty), newest first.
  virtual Result<std::vector<EndpointCert>> list(const std::string& nai) = 0;
  /// One certificate by serial (not_found when unknown).
  virtual Result<EndpointCert> get(const std::string& serial) = 0;
  /// Bills a certificate lookup (kind `certificates`, one record for the lookup); a `sold`
  /// lookup repeated with the same (agreement, request_id) is billed once (conflict when the
  /// subject differs). `done` runs after the commit with the record's sequence number.
  virtual void bill_lookup_async(CertLookupRecord r,
                                 std::function<void(Result<std::uint64_t>)> done) = 0;
};

/// The roaming login's state (DESIGN §7): passwords (pwd_key, sealed), failures and lockout,
/// login nonces, the home agent's login transaction, the foreign agent's visitor sessions.
class LoginStore {
 public:
  virtual ~LoginStore() = default;
  /// Sets the pwd_key of subscriber `nai` (sealed under the master key, the NAI bound); clears
  /// its failures.
  virtual Result<Done> set_password(const std::string& nai, const aka::Secret<32>& pwd_key) = 0;
  /// Removes it (not_found when the subscriber or its password does not exist).
  virtual Result<Done> clear_password(const std::string& nai) = 0;
  /// What the home agent reads for a login of `nai` with nonce `n1`; with `peer` and
  /// `request_id` (a relayed login) also the answer stored for them, if the same `fingerprint`.
  virtual Result<LoginView> view(const std::string& nai, const aka::Bytes<16>& n1,
                                 const std::string& peer, const std::string& request_id,
                                 const std::string& fingerprint) = 0;
  /// Commits a login's outcome in one transaction (nonce, failures or certificate and billing,
  /// the stored answer); `done` runs after the commit. A nonce already used, or a lock that
  /// another instance set meanwhile, writes nothing and says so in LoginCommitted::instead.
  virtual void commit_async(LoginRecord r, std::function<void(Result<LoginCommitted>)> done) = 0;
  /// The foreign agent's side: the visitor session (Ks2 sealed) and a `bought` billing record
  /// of kind login, in one transaction; `done` gets the record's sequence number.
  virtual void purchase_async(LoginPurchase p, std::function<void(Result<std::uint64_t>)> done) = 0;
  /// A visitor session, Ks2 opened (not_found when unknown; expiry is the caller's to check).
  virtual Result<VisitorSession> session(const std::string& id) = 0;
  /// Records a signed charge as a billing record of kind charge (its detail: the order, the
  /// signature and the certificate); the same order again (same session and order id) returns
  /// the record it made, another order under that id is a conflict. `done` gets the sequence.
  virtual void charge_async(ChargeRecord c, std::function<void(Result<std::uint64_t>)> done) = 0;
  /// Whether `nai` has a password.
  virtual Result<bool> has_password(const std::string& nai) = 0;
};

/// How to open a backend.
struct BackendConfig {
  std::string backend = "sqlite";               ///< factory key
  std::string path;                             ///< database file (sqlite) or conninfo (postgresql)
  std::string instance = "main";                ///< this instance's name: its billing chain
  std::shared_ptr<const MasterKey> master_key;  ///< key for K/OPc at rest
  unsigned ind_slot = 0;                        ///< this instance's IND
  bool migrate = false;                  ///< apply pending migrations (else refuse an old schema)
  bool create = false;                   ///< allow creating a new, empty database
  bool synchronous_full = true;          ///< fsync at every commit (off only for throwaway tests)
  std::size_t max_batch = 256;           ///< most requests per group commit
  std::int64_t vector_ttl_ms = 600'000;  ///< how long an issued vector stays valid
  std::int64_t login_nonce_ttl_ms = 7 * 86'400'000;  ///< how long login nonces are kept
  std::function<std::int64_t()> now_ms;              ///< clock (UTC ms); system clock when empty
};

/// Group-commit counters since open.
struct StoreStats {
  std::uint64_t commits = 0;   ///< write transactions committed
  std::uint64_t requests = 0;  ///< requests served in them (requests / commits = mean batch)
  std::size_t queued = 0;      ///< requests waiting now
  /// Commits by batch size: bucket i counts batches of size <= 2^i (i < 10), the last the rest.
  std::array<std::uint64_t, 11> batch_hist{};
  /// Commits by duration (seconds from BEGIN to a durable COMMIT): bucket i counts those that
  /// took at most commit_bounds[i] (not cumulative), the last those that took longer.
  std::array<double, 10> commit_bounds{};
  std::array<std::uint64_t, 11> commit_hist{};
  double commit_seconds = 0;  ///< the sum of their durations
};

/// An open backend: the four stores over one database.
class Backend {
 public:
  virtual ~Backend() = default;
  /// Subscribers.
  virtual SubscriberStore& subscribers() = 0;
  /// Agreements.
  virtual AgreementStore& agreements() = 0;
  /// Issuance.
  virtual IssuanceStore& issuance() = 0;
  /// Billing.
  virtual BillingStore& billing() = 0;
  /// Endpoint certificates.
  virtual EndpointStore& endpoints() = 0;
  /// Roaming logins.
  virtual LoginStore& logins() = 0;
  /// Schema version of the open database.
  virtual int schema_version() = 0;
  /// True when a read reaches the database (readiness).
  virtual bool healthy() = 0;
  /// Group-commit counters.
  virtual StoreStats stats() = 0;
};

/// Opens the backend named by `cfg.backend`; throws StoreError (unavailable / invalid) with a
/// message naming the problem (unknown backend, schema too new or too old, wrong master key).
std::unique_ptr<Backend> open_backend(const BackendConfig& cfg);

/// The schema version of the database of `cfg` without opening it for use (0 when it does not
/// exist or is empty); throws StoreError for an unknown backend or an unreadable database.
int read_schema_version(const BackendConfig& cfg);

/// The schema version this build writes and understands, per backend.
int latest_schema_version(const std::string& backend);

/// True when `location` names a PostgreSQL database (a postgresql:// URI or a key=value
/// conninfo) rather than a SQLite file: the one rule oagctl and the tools use to pick a backend.
bool is_postgresql_location(const std::string& location);

/// Backend names the factory knows.
std::vector<std::string> backend_names();

}  // namespace oag::storage
