#pragma once
// What a backend implements: a writer connection (the writer's transactions, the issuing
// transaction of issuance/txn.hpp, and the administrative writes), reader connections, and the
// database they belong to. The stores above them (engine/stores.hpp) are written once.
// Every call throws on a database failure; expected outcomes are return values.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/issuance/txn.hpp"
#include "storage/store.hpp"
#include "storage/writer/group_commit.hpp"

namespace oag::storage::engine {

/// A subscriber row to insert: keys sealed.
struct SubscriberRow {
  std::string nai;                    ///< NAI
  std::string imsi;                   ///< IMSI
  std::string algorithm;              ///< algorithm name
  std::vector<std::uint8_t> k_enc;    ///< sealed K
  std::vector<std::uint8_t> opc_enc;  ///< sealed OPc
  std::int64_t tuak_res_len = 8;      ///< TUAK RES length
  std::int64_t tuak_iterations = 1;   ///< TUAK iterations
  aka::Bytes<2> amf{};                ///< AMF
  std::uint64_t seq_he = 0;           ///< SEQ every slot starts from
  unsigned ind_len = 0;               ///< IND length
  unsigned kinds = 0;                 ///< kinds
  State state = State::active;        ///< state
  std::int64_t created_ms = 0;        ///< creation time
};

/// Which unique column an insert found taken.
enum class Taken { none, nai, imsi };

/// A subscriber's sealed keys, for a master key rotation.
struct SealedKeys {
  std::int64_t id = 0;                ///< row id
  std::string nai;                    ///< NAI (the AAD)
  std::vector<std::uint8_t> k_enc;    ///< sealed K
  std::vector<std::uint8_t> opc_enc;  ///< sealed OPc
};

/// A sealed value and what its seal is bound to, for a master key rotation.
struct SealedBlob {
  std::string key;                 ///< the row's key (subscriber id, session id)
  std::string aad;                 ///< what the seal binds (the NAI, the session id)
  std::vector<std::uint8_t> blob;  ///< the sealed value
};

/// A visitor session's row: Ks2 sealed.
struct SessionRow {
  std::string id;                     ///< session id
  std::string nai;                    ///< visitor
  std::vector<std::uint8_t> ks2_enc;  ///< sealed Ks2 (the id bound)
  std::string agreement;              ///< agreement with the home operator
  std::int64_t created_ms = 0;        ///< created
  std::int64_t expires_ms = 0;        ///< expires
  std::string certificate;            ///< the visitor's certificate, PEM
};

/// The writer's connection.
class WriteConnection : public writer::Transactions, public issuance::IssueTxn {
 public:
  /// Inserts a subscriber; the unique column found taken, if any (nothing written then).
  virtual Taken insert_subscriber(const SubscriberRow& r) = 0;
  /// A subscriber as read back (in the open transaction).
  virtual std::optional<Subscriber> subscriber(const std::string& nai) = 0;
  /// Sets a subscriber's state; false when there is none.
  virtual bool set_subscriber_state(const std::string& nai, State s) = 0;
  /// Sets the SEQ every slot continues from (the slots' own SEQs are dropped); false when none.
  virtual bool set_subscriber_seq(const std::string& nai, std::uint64_t seq) = 0;
  /// Deletes a subscriber and its vectors; false when there is none.
  virtual bool delete_subscriber(const std::string& nai) = 0;
  /// Every subscriber's sealed keys.
  virtual std::vector<SealedKeys> all_sealed_keys() = 0;
  /// Replaces one subscriber's sealed keys.
  virtual void set_sealed_keys(std::int64_t id, const std::vector<std::uint8_t>& k_enc,
                               const std::vector<std::uint8_t>& opc_enc) = 0;
  /// A meta value.
  virtual std::optional<std::string> meta(const std::string& key) = 0;
  /// Sets a meta value.
  virtual void set_meta(const std::string& key, const std::string& value) = 0;
  /// Inserts an agreement; false when its id exists.
  virtual bool insert_agreement(const Agreement& a) = 0;
  /// Sets an agreement's state; false when there is none.
  virtual bool set_agreement_state(const std::string& id, State s) = 0;
  /// Inserts a certificate record; false when its serial exists.
  virtual bool insert_cert(const EndpointCert& c) = 0;
  /// Revokes the unrevoked certificates of `nai`, or the one `serial` when not empty.
  virtual std::size_t revoke_certs(const std::string& nai, const std::string& serial,
                                   std::int64_t now_ms) = 0;

  // --- the roaming login ---
  /// The sealed pwd_key of subscriber row `subscriber`, if it has one.
  virtual std::optional<std::vector<std::uint8_t>> password(std::int64_t subscriber) = 0;
  /// Sets or replaces it.
  virtual void put_password(std::int64_t subscriber, const std::vector<std::uint8_t>& enc,
                            std::int64_t now_ms) = 0;
  /// Removes it; false when there was none.
  virtual bool delete_password(std::int64_t subscriber) = 0;
  /// Every sealed pwd_key (key: subscriber row id; aad: the NAI).
  virtual std::vector<SealedBlob> all_sealed_passwords() = 0;
  /// Replaces one (key as all_sealed_passwords gave it).
  virtual void set_sealed_password(const std::string& key,
                                   const std::vector<std::uint8_t>& enc) = 0;
  /// Every sealed session key (key and aad: the session id).
  virtual std::vector<SealedBlob> all_sealed_sessions() = 0;
  /// Replaces one.
  virtual void set_sealed_session(const std::string& id, const std::vector<std::uint8_t>& enc) = 0;
  /// The failures of `nai` (lower case), if any are recorded.
  virtual std::optional<LoginFailures> login_failures(const std::string& nai) = 0;
  /// Sets them.
  virtual void put_login_failures(const std::string& nai, const LoginFailures& f) = 0;
  /// Forgets them.
  virtual void delete_login_failures(const std::string& nai) = 0;
  /// Records a login nonce; false when (nai, n1) exists (nothing written).
  virtual bool insert_login_nonce(const std::string& nai, const aka::Bytes<16>& n1,
                                  std::int64_t time_ms) = 0;
  /// Deletes nonces recorded before `before_ms`.
  virtual void purge_login_nonces(std::int64_t before_ms) = 0;
  /// Inserts a visitor session; false when its id exists.
  virtual bool insert_session(const SessionRow& s) = 0;
};

/// A reader connection (read-only queries, any thread that leased it).
class ReadConnection {
 public:
  virtual ~ReadConnection() = default;
  /// One subscriber without keys.
  virtual std::optional<Subscriber> subscriber(const std::string& nai) = 0;
  /// Subscribers by NAI.
  virtual std::vector<Subscriber> subscribers(std::size_t offset, std::size_t limit) = 0;
  /// One agreement.
  virtual std::optional<Agreement> agreement(const std::string& id) = 0;
  /// All agreements by id.
  virtual std::vector<Agreement> agreements() = 0;
  /// Agreements naming `realm`.
  virtual std::vector<Agreement> agreements_for_realm(const std::string& realm) = 0;
  /// Billing records with from <= time < to, by chain then seq; stops when fn returns false.
  virtual void billing_range(std::int64_t from_ms, std::int64_t to_ms,
                             const std::function<bool(const BillingRecord&)>& fn) = 0;
  /// The names of the chains that have records.
  virtual std::vector<std::string> chains() = 0;
  /// Every record of `chain` by seq.
  virtual void billing_chain(const std::string& chain,
                             const std::function<void(const BillingRecord&)>& fn) = 0;
  /// Whether `serial` is revoked (false when unknown).
  virtual bool cert_revoked(const std::string& serial) = 0;
  /// Certificates of `nai` (all when empty), newest first.
  virtual std::vector<EndpointCert> certs(const std::string& nai) = 0;
  /// One certificate by serial.
  virtual std::optional<EndpointCert> cert(const std::string& serial) = 0;
  /// The sealed pwd_key of subscriber row `subscriber`, if it has one.
  virtual std::optional<std::vector<std::uint8_t>> password(std::int64_t subscriber) = 0;
  /// The failures of `nai` (lower case), if any are recorded.
  virtual std::optional<LoginFailures> login_failures(const std::string& nai) = 0;
  /// Whether (nai, n1) was recorded.
  virtual bool login_nonce_seen(const std::string& nai, const aka::Bytes<16>& n1) = 0;
  /// The stored answer to (peer, request_id), if any.
  virtual std::optional<issuance::FedAnswer> federation_answer(const std::string& peer,
                                                               const std::string& request_id) = 0;
  /// A visitor session.
  virtual std::optional<SessionRow> session(const std::string& id) = 0;
  /// The schema version.
  virtual int schema_version() = 0;
  /// A trivial query (readiness).
  virtual bool ping() = 0;
  /// False when the connection is broken and must not go back to the pool.
  virtual bool usable() = 0;
};

/// An open database: connections to it.
class Database {
 public:
  virtual ~Database() = default;
  /// The writer's connection (opened once, at start; the schema is checked or migrated then).
  virtual WriteConnection& writer() = 0;
  /// A new reader connection.
  virtual std::unique_ptr<ReadConnection> open_reader() = 0;
};

/// The stores over `db` (takes it), with this instance's configuration.
std::unique_ptr<Backend> make_backend(std::unique_ptr<Database> db, const BackendConfig& cfg);

}  // namespace oag::storage::engine
