#pragma once
// The narrow transaction interface through which the issuance rules (issuance.hpp) reach a
// database. Each backend implements it on its writer connection; every call runs inside the
// writer's open transaction and throws (StoreError / the backend's error) when the database
// fails. Expected outcomes (a row taken, a compare-and-set that lost) are return values, never
// errors, so that a backend whose transaction aborts on any failed statement (PostgreSQL) can
// still refuse a request cleanly.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/aka/bytes.hpp"
#include "storage/types.hpp"

namespace oag::storage::issuance {

/// A subscriber's row as the issuing transaction needs it: keys still sealed.
struct KeyRow {
  std::int64_t id = 0;                    ///< row id
  std::string algorithm;                  ///< algorithm name
  std::vector<std::uint8_t> k_enc;        ///< sealed K
  std::vector<std::uint8_t> opc_enc;      ///< sealed OPc
  std::int64_t tuak_res_len = 8;          ///< TUAK RES length
  std::int64_t tuak_iterations = 1;       ///< TUAK Keccak iterations
  aka::Bytes<2> amf{};                    ///< AMF
  std::uint64_t seq_base = 0;             ///< SEQ every IND slot starts from (provisioning)
  std::optional<std::uint64_t> slot_seq;  ///< last SEQ of this IND slot, when it has issued
  unsigned ind_len = 0;                   ///< IND length
  unsigned kinds = 0;                     ///< KindMask bits
  State state = State::active;            ///< state
};

/// One issued vector's row (no RES or key).
struct VectorRow {
  std::string id;                    ///< vector id
  std::int64_t subscriber_id = 0;    ///< subscriber row
  Kind kind = Kind::aka;             ///< kind
  aka::Bytes<16> rand{};             ///< RAND
  std::optional<std::uint64_t> sqn;  ///< SQN (aka)
  std::string requester;             ///< who asked
  std::string request_id;            ///< correlation id
  Role role = Role::local;           ///< local or sold
  std::string agreement;             ///< agreement or ""
  std::int64_t issued_ms = 0;        ///< issue time
  std::int64_t expires_ms = 0;       ///< expiry
};

/// A vector this gateway issued or bought, as a result report finds it.
struct VectorRef {
  Kind kind = Kind::aka;    ///< kind
  aka::Bytes<16> rand{};    ///< RAND
  std::string requester;    ///< who it was issued to
  std::string request_id;   ///< its request
  Role role = Role::local;  ///< local, sold or bought
  std::string agreement;    ///< agreement
  bool reported = false;    ///< an outcome is recorded already
  std::string subject;      ///< whose vector
};

/// A vector bought from a peer.
struct BoughtRow {
  std::string id;              ///< the issuer's vector id
  std::string agreement;       ///< our agreement
  std::string subject;         ///< the peer's subscriber
  std::string requester;       ///< our endpoint
  Kind kind = Kind::aka;       ///< kind
  aka::Bytes<16> rand{};       ///< RAND
  std::string request_id;      ///< the id sent to the peer
  std::int64_t issued_ms = 0;  ///< when
};

/// A stored federation answer (for idempotent retries).
struct FedAnswer {
  std::string fingerprint;           ///< what the request asked
  std::vector<std::uint8_t> sealed;  ///< the sealed answer
};

/// The head of one billing chain.
struct ChainHead {
  std::uint64_t seq = 0;  ///< last sequence number (0: empty chain)
  std::string hash;       ///< its hash (the genesis hash when empty)
};

/// Moves the SEQ of (subscriber, ind) from `expected` (none: the slot has no row yet) to
/// `next`.
struct SqnStep {
  std::int64_t subscriber = 0;            ///< subscriber row
  unsigned ind = 0;                       ///< IND slot
  std::optional<std::uint64_t> expected;  ///< the slot's SEQ as read (none: no row yet)
  std::uint64_t next = 0;                 ///< the new SEQ
};

/// What write_issue found already taken.
enum class IssueConflict {
  none,    ///< every row written
  vector,  ///< a vector id or (subscriber, RAND) existed
  sqn,     ///< another writer moved the slot's SEQ first
};

/// What the issuance rules do to a database, inside the writer's transaction.
class IssueTxn {
 public:
  virtual ~IssueTxn() = default;
  /// A job of the coming batch will ask subscriber_keys(nai, ...): a backend may fetch every
  /// such row with one query when the batch's transaction begins.
  virtual void expect_subscriber(const std::string& nai) { (void)nai; }
  /// The subscriber `nai` with its sealed keys and the SEQ of IND slot `ind`.
  virtual std::optional<KeyRow> subscriber_keys(const std::string& nai, unsigned ind) = 0;
  /// Moves every slot's SEQ and the base of `subscriber` up to at least `seq` (resync).
  virtual void raise_sqn(std::int64_t subscriber, std::uint64_t seq) = 0;
  /// The writes of one issue, at once (a backend may send them as one statement): `vectors`,
  /// the SQN step when set, and `billing` (seq and hashes set; throws when (chain, seq) exists).
  /// A conflict is reported after all parts ran: the caller throws, which undoes them.
  virtual IssueConflict write_issue(const std::vector<VectorRow>& vectors,
                                    const std::optional<SqnStep>& sqn,
                                    const BillingRecord& billing) = 0;
  /// True when `rand` was issued to `subscriber`.
  virtual bool rand_issued(std::int64_t subscriber, const aka::Bytes<16>& rand) = 0;
  /// Adds `count` to the use of (agreement, period) if the total stays <= `quota`; false when
  /// it would not (nothing changed).
  virtual bool add_quota_use(const std::string& agreement, std::int64_t period_start_ms,
                             std::uint64_t count, std::uint64_t quota) = 0;
  /// The head of `chain` as stored.
  virtual ChainHead chain_head(const std::string& chain) = 0;
  /// Appends `b` (seq, prev_hash and hash already set) to its chain; throws when (chain, seq)
  /// exists (another writer uses this chain).
  virtual void append_billing(const BillingRecord& b) = 0;
  /// The stored answer to (peer, request_id), if any.
  virtual std::optional<FedAnswer> federation_answer(const std::string& peer,
                                                     const std::string& request_id) = 0;
  /// Stores an answer; false when (peer, request_id) exists.
  virtual bool put_federation_answer(const std::string& peer, const std::string& request_id,
                                     const FedAnswer& a, std::int64_t now_ms) = 0;
  /// A vector issued to `requester`, else one bought for `requester`.
  virtual std::optional<VectorRef> vector_ref(const std::string& id,
                                              const std::string& requester) = 0;
  /// Records the outcome of a vector found by vector_ref.
  virtual void set_outcome(const std::string& id, const std::string& requester, Role role,
                           bool success) = 0;
  /// Inserts a bought vector; false when (id, requester) exists.
  virtual bool insert_bought(const BoughtRow& b) = 0;
};

}  // namespace oag::storage::issuance
