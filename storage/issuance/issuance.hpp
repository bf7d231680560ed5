#pragma once
// The rules of issuance, written once above the backends: validation, SQN allocation per
// (subscriber, IND), vector generation, the conditional quota, the idempotent federation
// answer, and the billing records of this instance's chain. They reach the database only
// through IssueTxn, inside the group-commit writer's transaction (writer thread only).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "proto/aka/rand_pool.hpp"
#include "storage/issuance/txn.hpp"
#include "storage/master_key.hpp"
#include "storage/result.hpp"
#include "storage/store.hpp"

namespace oag::storage::issuance {

/// The field-naming check of a subscriber to provision (nullopt when valid).
std::optional<Error> check_subscriber(const SubscriberInput& in);
/// The check of an agreement.
std::optional<Error> check_agreement(const Agreement& a);
/// The check of an endpoint certificate record.
std::optional<Error> check_cert(const EndpointCert& c);

/// Associated data that binds a sealed K to its NAI.
std::string aad_k(const std::string& nai);
/// Associated data that binds a sealed OPc to its NAI.
std::string aad_opc(const std::string& nai);

/// Seals a text of any length under `key`, bound to `aad` (in 64-byte chunks, each bound to its
/// position): stored answers.
std::vector<std::uint8_t> seal_text(const MasterKey& key, const std::string& plain,
                                    const std::string& aad);
/// Opens seal_text's output; throws StoreError (unavailable) when it does not open.
std::string open_text(const MasterKey& key, const std::vector<std::uint8_t>& sealed,
                      const std::string& aad);

/// What an Issuer needs to know of its instance.
struct IssuerConfig {
  unsigned ind_slot = 0;                 ///< this instance's IND
  std::int64_t vector_ttl_ms = 600'000;  ///< validity of an issued vector
  std::string chain = "main";            ///< this instance's billing chain
  std::function<std::int64_t()> now_ms;  ///< clock (UTC ms)
};

/// The issuing rules of one instance. Writer thread only.
class Issuer {
 public:
  /// Rules for `cfg`, sealing with `key`.
  Issuer(IssuerConfig cfg, std::shared_ptr<const MasterKey> key);

  /// Issues vectors (DESIGN §4) in the open transaction.
  Result<IssueResult> issue(IssueTxn& tx, const IssueRequest& req);
  /// Records a purchase from a peer: bought rows and a `bought` billing record.
  Result<std::uint64_t> purchase(IssueTxn& tx, const PurchaseRecord& p);
  /// Records an endpoint's report of a vector's outcome and bills it as a result event.
  Result<Done> report_result(IssueTxn& tx, const std::string& vector_id,
                             const std::string& requester, bool success);
  /// Verifies AUTS for a RAND issued to `nai` and raises SEQ past SQN_MS.
  Result<aka::Sqn> resync(IssueTxn& tx, const std::string& nai, const aka::Bytes<16>& rand,
                          const aka::Auts& auts);

  /// The chain head as this writer knows it (nullopt: to be read from the database).
  std::optional<ChainHead> head() const { return head_; }
  /// Puts back a head taken before a job whose writes were rolled back.
  void restore(std::optional<ChainHead> h) { head_ = std::move(h); }
  /// Forgets the head (after a batch whose commit may or may not have happened).
  void invalidate() { head_.reset(); }

  /// The master key in use.
  const MasterKey& key() const { return *key_; }
  /// Switches to `next` (after a rotation committed).
  void set_key(std::shared_ptr<const MasterKey> next) { key_ = std::move(next); }
  /// This instance's chain name.
  const std::string& chain() const { return cfg_.chain; }
  /// Now (UTC ms).
  std::int64_t now() const { return cfg_.now_ms(); }

  /// Appends `b` (chain, seq and hashes filled in here) to this instance's chain; returns its
  /// sequence number. For the other stores' records (logins) in the same transaction.
  std::uint64_t append(IssueTxn& tx, BillingRecord b);
  /// Seals a text of any length under the master key, bound to `aad` (a stored answer).
  std::vector<std::uint8_t> seal_large(const std::string& plain, const std::string& aad) const;
  /// Opens seal_large's output; throws StoreError (unavailable) when it does not open.
  std::string open_large(const std::vector<std::uint8_t>& sealed, const std::string& aad) const;

 private:
  struct Keyed;
  Result<Keyed> open_keys(const KeyRow& row, const std::string& nai) const;
  BillingRecord next_record(IssueTxn& tx, BillingRecord b);

  IssuerConfig cfg_;
  std::shared_ptr<const MasterKey> key_;
  std::optional<ChainHead> head_;
  aka::RandPool pool_;
};

}  // namespace oag::storage::issuance
