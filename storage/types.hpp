#pragma once
// The records the stores keep. Long-term keys appear only in SubscriberInput (to write them);
// no read model carries them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/aka/bytes.hpp"
#include "proto/aka/vector.hpp"
#include "proto/ident/ident.hpp"

namespace oag::storage {

/// A vector kind: GSM triplet or AKA quintet (the one definition is proto/ident's).
using Kind = ident::Kind;
using ident::parse_kind;
using ident::to_string;

/// Bit set of kinds: a subscriber's vector kinds (sim, aka; none for a password user without a
/// SIM), and an agreement's services (those, and the roaming login and certificate lookup).
enum KindMask : unsigned {
  kSim = 1u,
  kAka = 2u,
  kBoth = 3u,
  kLogin = 4u,         ///< agreements: roaming logins (DESIGN §7)
  kCertificates = 8u,  ///< agreements: certificate lookup (DESIGN §8)
  kAllServices = 15u,  ///< every bit an agreement may hold
};
/// "sim,aka,login,certificates" (the bits set, in that order; "" for none).
std::string kinds_to_string(unsigned kinds);
/// Parses "sim", "aka", "both", "login", "certificates" and comma-separated lists of them.
std::optional<unsigned> parse_kinds(std::string_view s);
/// The bit of a kind.
constexpr unsigned mask_of(Kind k) noexcept {
  return k == Kind::sim ? kSim : kAka;
}

/// What a billing record bills: a vector of a kind, or a service paid with one (DESIGN §4:
/// `enroll` is a SIM enrollment's challenge; `login` and `charge` come with the roaming login).
enum class BillingKind { sim, aka, enroll, login, charge, certificates };
/// "sim", "aka", "enroll", "login", "charge" or "certificates".
const char* to_string(BillingKind k) noexcept;
/// Parses a billing kind name.
std::optional<BillingKind> parse_billing_kind(std::string_view s) noexcept;
/// The billing kind of a plain vector issue.
constexpr BillingKind billing_kind_of(Kind k) noexcept {
  return k == Kind::sim ? BillingKind::sim : BillingKind::aka;
}

/// Whose billing record this is.
enum class Role { local, sold, bought };
/// "local", "sold" or "bought".
const char* to_string(Role r) noexcept;
/// Parses a role name.
std::optional<Role> parse_role(std::string_view s) noexcept;

/// Administrative state of a subscriber or an agreement.
enum class State { active, suspended, revoked };
/// "active", "suspended" or "revoked" (a disabled subscriber is "suspended").
const char* to_string(State s) noexcept;
/// Parses a state name.
std::optional<State> parse_state(std::string_view s) noexcept;

/// What provisioning writes for one subscriber.
struct SubscriberInput {
  std::string nai;  ///< user@realm, unique
  /// 6..15 digits, unique, never leaves this operator; empty (with kinds 0 and no keys) for a
  /// password user without a SIM.
  std::string imsi;
  aka::SubscriberKeys keys;                ///< algorithm, K, OPc (computed from OP by the caller)
  aka::Bytes<2> amf{0x80, 0x00};           ///< AMF for quintets (separation bit set)
  std::uint64_t seq_he = 0;                ///< last SEQ issued; the next vector gets seq_he + 1
  unsigned ind_len = aka::kDefaultIndLen;  ///< IND length in bits
  unsigned kinds = kBoth;                  ///< kinds this subscriber may be issued
  State state = State::active;             ///< active or suspended
};

/// A subscriber as read back: no keys.
struct Subscriber {
  std::int64_t id = 0;          ///< row id
  std::string nai;              ///< user@realm
  std::string imsi;             ///< IMSI ("" without a SIM)
  aka::Algorithm algorithm{};   ///< algorithm set
  aka::Bytes<2> amf{};          ///< AMF
  std::uint64_t seq_he = 0;     ///< last SEQ issued
  unsigned ind_len = 0;         ///< IND length
  unsigned kinds = 0;           ///< KindMask bits
  State state = State::active;  ///< state
  std::int64_t created_ms = 0;  ///< creation time (UTC ms)
};

/// An agreement with a peer operator.
struct Agreement {
  std::string id;                        ///< operator-chosen identifier, unique
  std::vector<std::string> peer_realms;  ///< realms served by the peer
  std::string peer_url;                  ///< https://... of the peer AG's federation listener
  std::string trust_ca_file;             ///< CA the peer's certificate must chain to (or empty)
  std::string trust_spki_sha256;         ///< pinned SPKI SHA-256, hex (or empty)
  unsigned kinds = kBoth;                ///< kinds allowed
  double rate_per_s = 10;                ///< token bucket rate
  unsigned burst = 20;                   ///< token bucket depth
  std::uint64_t quota = 0;               ///< vectors per period, 0 = unlimited
  std::string quota_period = "month";    ///< "day" or "month"
  std::int64_t price_micros = 0;         ///< price per vector in millionths of the currency unit
  std::string currency = "EUR";          ///< ISO 4217
  std::int64_t valid_from_ms = 0;        ///< start of validity (UTC ms)
  std::int64_t valid_until_ms = 0;       ///< end of validity (UTC ms), 0 = open
  State state = State::active;           ///< state
  std::string user_ca_file;  ///< the peer's endpoint CA: anchor of its users' certificates
};

/// How every backend stores an agreement's realms in one column: ",realm1,realm2," (so that a
/// realm is found by searching for ",realm,").
std::string join_realms(const std::vector<std::string>& realms);
/// The realms of a stored ",realm1,realm2," column.
std::vector<std::string> split_realms(const std::string& column);

/// True when `a` is in force at `now_ms` (UTC ms): active, and within its validity dates.
inline bool in_force(const Agreement& a, std::int64_t now_ms) noexcept {
  return a.state == State::active && now_ms >= a.valid_from_ms &&
         (a.valid_until_ms == 0 || now_ms < a.valid_until_ms);
}

/// One issue request (DESIGN §4): everything the transaction needs.
struct IssueRequest {
  std::string subject;            ///< NAI of the subscriber whose vectors are issued
  Kind kind = Kind::aka;          ///< triplets or quintets
  unsigned count = 1;             ///< 1..kMaxCount
  std::string requester;          ///< NAI of who asked (endpoint or remote subscriber)
  std::string request_id;         ///< idempotency key (federation) or a fresh id (local)
  Role role = Role::local;        ///< local (own endpoint) or sold (to a peer)
  std::string agreement;          ///< agreement id, empty for local
  std::string peer;               ///< peer identity for idempotent retries, empty for local
  std::int64_t price_micros = 0;  ///< unit price
  std::string currency;           ///< currency of the price
  std::uint64_t quota = 0;        ///< vectors allowed per period under `agreement`, 0 = no limit
  std::int64_t quota_period_start_ms = 0;  ///< start of the current quota period (UTC ms)
  /// Billed as this instead of the vector's kind (a SIM enrollment's challenge: enroll).
  std::optional<BillingKind> billed_as;
};

/// A purchase from a peer (the broker's side of a federation request): billing only, since
/// the vectors are the peer's.
struct PurchaseRecord {
  std::string requester;              ///< our endpoint's NAI
  std::string subject;                ///< the peer's subscriber
  Kind kind = Kind::aka;              ///< kind
  unsigned count = 0;                 ///< vectors received
  std::string agreement;              ///< our agreement id
  std::int64_t price_micros = 0;      ///< unit price under our agreement
  std::string currency;               ///< its currency
  std::string request_id;             ///< the id sent to the peer (their `sold` record has it)
  std::vector<aka::Bytes<16>> rands;  ///< RANDs received, for the hash
  std::vector<std::string> ids;       ///< the issuer's vector ids (results are reported by id)
};

/// Most vectors one request may ask for.
inline constexpr unsigned kMaxCount = 16;

/// A vector as handed to the caller (the store keeps only its RAND and SQN).
struct IssuedVector {
  std::string id;               ///< vector id (UUID)
  Kind kind = Kind::aka;        ///< kind
  aka::Bytes<16> rand{};        ///< RAND
  std::int64_t expires_ms = 0;  ///< expiry (UTC ms)
  aka::Sqn sqn;                 ///< SQN (aka only)
  aka::Bytes<16> autn{};        ///< AUTN (aka only)
  aka::SecretVec<32> xres;      ///< XRES (aka) or SRES (sim)
  aka::Secret<16> ck;           ///< CK (aka)
  aka::Secret<16> ik;           ///< IK (aka)
  aka::Secret<8> kc;            ///< Kc (sim)
};

/// The answer to an IssueRequest.
struct IssueResult {
  std::string subject;                ///< subject NAI
  std::vector<IssuedVector> vectors;  ///< count vectors
  std::uint64_t billing_seq = 0;      ///< billing record written for it
  bool replayed = false;              ///< true when an idempotent retry returned a stored answer
};

/// One billing record (DESIGN §4). Keys never appear here.
struct BillingRecord {
  std::string chain;                    ///< the instance whose chain holds it (not hashed)
  std::uint64_t seq = 0;                ///< gap-free per chain, from 1
  std::int64_t time_ms = 0;             ///< UTC ms
  Role role = Role::local;              ///< local, sold or bought
  std::string event;                    ///< "issue" or "result"
  std::string requester;                ///< requester NAI
  std::string subject;                  ///< subject NAI
  std::string requester_realm;          ///< realm of the requester
  std::string subject_realm;            ///< realm of the subject
  std::string agreement;                ///< agreement id or empty
  BillingKind kind = BillingKind::aka;  ///< what is billed
  unsigned count = 0;                   ///< vectors in this record
  std::int64_t unit_price_micros = 0;   ///< price per vector
  std::string currency;                 ///< currency
  std::string request_id;               ///< idempotency / correlation key
  std::string rand_sha256;              ///< hex SHA-256 of the RANDs, concatenated in order
  std::string outcome;                  ///< "issued", "success" or "failure"
  /// What the record bills beyond its columns (a charge's signed order, as canonical JSON);
  /// hashed only when not empty, so that records without it keep the hashes they had.
  std::string detail;
  std::string prev_hash;  ///< hex hash of the previous record (zeros for the first)
  std::string hash;       ///< hex SHA-256(prev_hash ‖ canonical record)
};

/// Result of walking one billing chain.
struct ChainReport {
  std::string chain;                       ///< the chain (an instance name)
  std::uint64_t records = 0;               ///< records checked
  std::string head_hash;                   ///< hash of the last record
  std::optional<std::uint64_t> first_bad;  ///< first record that breaks the chain
  std::string reason;                      ///< why it is bad
};

/// Result of walking every chain.
struct BillingReport {
  std::vector<ChainReport> chains;         ///< one per chain, by name
  std::uint64_t records = 0;               ///< records checked in all chains
  std::optional<std::uint64_t> first_bad;  ///< first bad record of the first broken chain
  std::string bad_chain;                   ///< that chain
  std::string reason;                      ///< why it is bad
};

/// An endpoint certificate the operator issued.
struct EndpointCert {
  std::string serial;                      ///< lower-case hex serial number
  std::string nai;                         ///< the NAI in its SAN URI
  std::int64_t not_after_ms = 0;           ///< expiry (UTC ms)
  std::int64_t issued_ms = 0;              ///< issue time (UTC ms)
  std::optional<std::int64_t> revoked_ms;  ///< revocation time, if revoked
  std::string pem;  ///< the certificate, when the daemon issued it ("" for older records)
};

/// A certificate lookup of another operator's subscriber (DESIGN §8): billed `sold` by the
/// subject's home, `bought` by the requester's gateway, at the agreement's price (may be 0).
struct CertLookupRecord {
  Role role = Role::sold;              ///< sold (we are the subject's home) or bought
  std::string requester;               ///< the NAI who asked
  std::string subject;                 ///< the NAI whose certificates were returned
  std::string agreement;               ///< the agreement it was served under
  unsigned count = 0;                  ///< certificates returned
  std::int64_t unit_price_micros = 0;  ///< price per lookup
  std::string currency;                ///< its currency
  std::string request_id;              ///< the broker's id (both records carry it)
  std::string serials_sha256;          ///< hex SHA-256 of the serials returned, in order
};

// --- the roaming login (DESIGN §7) ---

/// A NAI's recent failed logins.
struct LoginFailures {
  unsigned failures = 0;             ///< failures since window_start_ms
  std::int64_t window_start_ms = 0;  ///< first failure of the current window
  std::int64_t locked_until_ms = 0;  ///< locked until then (0: not locked)
};

/// Failures that lock a NAI, within kLockWindowMs.
inline constexpr unsigned kLockFailures = 5;
/// The window they are counted in, and how long the lock lasts.
inline constexpr std::int64_t kLockWindowMs = 15 * 60'000;

/// What the home agent reads before it decides a login (one read, no write).
struct LoginView {
  std::optional<Subscriber> subscriber;    ///< none: no such subscriber
  std::optional<aka::Secret<32>> pwd_key;  ///< none: unknown, or no password set
  LoginFailures failures;                  ///< the NAI's failures (known or not)
  bool nonce_seen = false;                 ///< n1 was used before for this NAI
  /// A stored answer to the same (peer, request_id): an idempotent retry gets it again.
  std::optional<std::string> answer;
  bool request_id_reused = false;  ///< the request_id was used for another request
};

/// How a login ended, as the home agent commits it.
enum class LoginVerdict {
  success,  ///< certificate issued: nonce, certificate, billing, failures cleared
  failure,  ///< wrong password (or unknown NAI): nonce and one more failure
  refused,  ///< refused for another reason the HA proves (revoked, bad CSR): nonce only
};

/// A visitor session at the foreign agent.
struct VisitorSession {
  std::string id;               ///< session id (random, 128 bits, hex)
  std::string nai;              ///< the visitor
  aka::Secret<32> ks2;          ///< the session key with the visitor
  std::string agreement;        ///< the agreement with her home operator
  std::int64_t created_ms = 0;  ///< when
  std::int64_t expires_ms = 0;  ///< until
  std::string certificate;      ///< the visitor's certificate from the login, PEM
};

/// What the home agent commits for one login, in one transaction, before it answers.
struct LoginRecord {
  std::string nai;                               ///< the user (lower-case realm as sent)
  aka::Bytes<16> n1{};                           ///< the client's nonce
  LoginVerdict verdict = LoginVerdict::failure;  ///< what happened
  std::optional<EndpointCert> cert;              ///< success: the certificate issued
  Role role = Role::local;                       ///< local (at home) or sold (through an FA)
  std::string visited_realm;                     ///< the FA's realm (the home realm at home)
  std::string agreement;                         ///< the agreement with the FA ("" at home)
  std::int64_t price_micros = 0;                 ///< price of a login under it
  std::string currency;                          ///< its currency
  std::string request_id;                        ///< the FA's request id (a fresh one at home)
  std::string peer;         ///< the FA's identity for idempotent retries ("" at home)
  std::string fingerprint;  ///< SHA-256 of the request, for retries
  std::string answer;       ///< the answer, stored (sealed) for retries
  /// Sessions inserted on success: the home agent's own with the user (Ks3, for renewals) and,
  /// at home, the one a foreign agent would keep (Ks2).
  std::vector<VisitorSession> sessions;
};

/// The commit's outcome.
struct LoginCommitted {
  /// What the HA must answer instead of the answer it prepared, if anything: a retry's stored
  /// answer, or a refusal found only in the transaction (replay, locked).
  enum class Instead { nothing, stored_answer, replay, locked } instead = Instead::nothing;
  std::string answer;             ///< the stored answer (stored_answer)
  std::uint64_t billing_seq = 0;  ///< the billing record written (success)
  bool now_locked = false;        ///< this failure locked the NAI
};

/// A visitor's signed charge, as the foreign agent records it.
struct ChargeRecord {
  std::string session;             ///< the visitor session it came in
  std::string nai;                 ///< the visitor
  std::string agreement;           ///< the agreement with her home operator
  std::string home_realm;          ///< her home realm
  std::string visited_realm;       ///< ours
  std::string order_id;            ///< the order's id (one charge per order and session)
  std::int64_t amount_micros = 0;  ///< the amount
  std::string currency;            ///< its currency
  std::string order_sha256;        ///< hex SHA-256 of the canonical order
  std::string detail;              ///< canonical JSON: the order, its signature, the certificate
};

/// The foreign agent's record of a login it relayed: the session and a `bought` record.
struct LoginPurchase {
  VisitorSession session;         ///< the session to keep
  std::string home_realm;         ///< the visitor's home realm
  std::string visited_realm;      ///< ours
  std::int64_t price_micros = 0;  ///< price under our agreement
  std::string currency;           ///< its currency
  std::string request_id;         ///< the id sent to the HA (its `sold` record has it)
  aka::Bytes<16> n1{};            ///< the client's nonce (its hash correlates the records)
};

}  // namespace oag::storage
