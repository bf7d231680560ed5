#pragma once
// Every SQL statement of the PostgreSQL backend (the schema is in
// storage/schema/postgresql/*.sql). The same shapes as the SQLite backend's: expected conflicts
// are `ON CONFLICT DO NOTHING` read from the changed-row count, since a failed statement would
// abort the whole transaction here.

#include <cstddef>

namespace oag::storage::postgresql::sql {

inline constexpr const char* kMetaGet = "SELECT value FROM meta WHERE key = $1";
inline constexpr const char* kMetaPut =
    "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
    "excluded.value";

#define OAG_SUBSCRIBER_COLUMNS                                                                \
  "s.id, s.nai, s.imsi, s.algorithm, s.amf, "                                                 \
  "GREATEST(s.seq_he, coalesce((SELECT max(seq) FROM sqn_slots WHERE subscriber_id = s.id), " \
  "0)), s.ind_len, s.kinds, s.state, s.created_ms "
inline constexpr const char* kSubscriberInsert =
    "INSERT INTO subscribers (nai, imsi, algorithm, k_enc, opc_enc, tuak_res_len, tuak_iterations, "
    "amf, seq_he, ind_len, kinds, state, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11, $12, $13) ON CONFLICT DO NOTHING";
inline constexpr const char* kImsiTaken = "SELECT 1 FROM subscribers WHERE imsi = $1";
inline constexpr const char* kSubscriberByNai =
    "SELECT " OAG_SUBSCRIBER_COLUMNS "FROM subscribers s WHERE s.nai = $1";
inline constexpr const char* kSubscriberList =
    "SELECT " OAG_SUBSCRIBER_COLUMNS "FROM subscribers s ORDER BY s.nai LIMIT $1 OFFSET $2";
#undef OAG_SUBSCRIBER_COLUMNS
inline constexpr const char* kSubscriberKeys =
    "SELECT s.id, s.algorithm, s.k_enc, s.opc_enc, s.tuak_res_len, s.tuak_iterations, s.amf, "
    "s.seq_he, s.ind_len, s.kinds, s.state, "
    "(SELECT seq FROM sqn_slots WHERE subscriber_id = s.id AND ind = $2) "
    "FROM subscribers s WHERE s.nai = $1";
// The same columns for every NAI of a batch ($1: a text[] literal), the NAI last.
inline constexpr const char* kSubscriberKeysMany =
    "SELECT s.id, s.algorithm, s.k_enc, s.opc_enc, s.tuak_res_len, s.tuak_iterations, s.amf, "
    "s.seq_he, s.ind_len, s.kinds, s.state, "
    "(SELECT seq FROM sqn_slots WHERE subscriber_id = s.id AND ind = $2), s.nai "
    "FROM subscribers s WHERE s.nai = ANY($1::text[])";
inline constexpr const char* kSubscriberSetState =
    "UPDATE subscribers SET state = $2 WHERE nai = $1";
inline constexpr const char* kSubscriberSetSeq =
    "UPDATE subscribers SET seq_he = $2 WHERE nai = $1";
inline constexpr const char* kSlotsClear =
    "DELETE FROM sqn_slots WHERE subscriber_id = (SELECT id FROM subscribers WHERE nai = $1)";
inline constexpr const char* kSlotInsert =
    "INSERT INTO sqn_slots (subscriber_id, ind, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
inline constexpr const char* kSlotStep =
    "UPDATE sqn_slots SET seq = $4 WHERE subscriber_id = $1 AND ind = $2 AND seq = $3";
inline constexpr const char* kSlotsRaise =
    "UPDATE sqn_slots SET seq = GREATEST(seq, $2) WHERE subscriber_id = $1";
inline constexpr const char* kBaseRaise =
    "UPDATE subscribers SET seq_he = GREATEST(seq_he, $2) WHERE id = $1";
inline constexpr const char* kSubscriberDelete = "DELETE FROM subscribers WHERE nai = $1";
inline constexpr const char* kSubscriberAllKeys =
    "SELECT id, nai, k_enc, opc_enc FROM subscribers ORDER BY id";
inline constexpr const char* kSubscriberSetKeys =
    "UPDATE subscribers SET k_enc = $2, opc_enc = $3 WHERE id = $1";

inline constexpr const char* kVectorInsert =
    "INSERT INTO vectors (id, subscriber_id, kind, rand, sqn, requester, request_id, role, "
    "agreement, issued_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
    "ON CONFLICT DO NOTHING";
inline constexpr const char* kVectorById =
    "SELECT v.kind, v.rand, v.requester, v.request_id, v.role, v.agreement, v.outcome, s.nai "
    "FROM vectors v JOIN subscribers s ON s.id = v.subscriber_id WHERE v.id = $1";
inline constexpr const char* kVectorSetOutcome =
    "UPDATE vectors SET outcome = $2 WHERE id = $1 AND outcome IS NULL";
inline constexpr const char* kBoughtInsert =
    "INSERT INTO bought_vectors (id, agreement, subject, requester, kind, rand, request_id, "
    "issued_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING";
inline constexpr const char* kBoughtById =
    "SELECT kind, rand, requester, request_id, 'bought', agreement, outcome, subject "
    "FROM bought_vectors WHERE id = $1 AND requester = $2";
inline constexpr const char* kBoughtSetOutcome =
    "UPDATE bought_vectors SET outcome = $3 WHERE id = $1 AND requester = $2 AND outcome IS NULL";
inline constexpr const char* kVectorRandExists =
    "SELECT 1 FROM vectors WHERE subscriber_id = $1 AND rand = $2";

#define OAG_AGREEMENT_COLUMNS                                                                      \
  "id, peer_realms, peer_url, trust_ca_file, trust_spki_sha256, kinds, rate_per_s, burst, quota, " \
  "quota_period, price_micros, currency, valid_from_ms, valid_until_ms, state, user_ca_file "
inline constexpr const char* kAgreementInsert =
    "INSERT INTO agreements (" OAG_AGREEMENT_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) "
    "ON CONFLICT DO NOTHING";
inline constexpr const char* kAgreementById =
    "SELECT " OAG_AGREEMENT_COLUMNS "FROM agreements WHERE id = $1";
inline constexpr const char* kAgreementList =
    "SELECT " OAG_AGREEMENT_COLUMNS "FROM agreements ORDER BY id";
inline constexpr const char* kAgreementForRealm =
    "SELECT " OAG_AGREEMENT_COLUMNS
    "FROM agreements WHERE position(',' || $1 || ',' in peer_realms) > 0 ORDER BY id";
#undef OAG_AGREEMENT_COLUMNS
inline constexpr const char* kAgreementSetState = "UPDATE agreements SET state = $2 WHERE id = $1";

#define OAG_BILLING_COLUMNS                                                                 \
  "chain, seq, time_ms, role, event, requester, subject, requester_realm, subject_realm, "  \
  "agreement, kind, count, unit_price_micros, currency, request_id, rand_sha256, outcome, " \
  "prev_hash, hash, detail "
inline constexpr const char* kBillingInsert =
    "INSERT INTO billing (" OAG_BILLING_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
    "$19, $20)";
inline constexpr const char* kBillingHead =
    "SELECT seq, hash FROM billing WHERE chain = $1 ORDER BY seq DESC LIMIT 1";
inline constexpr const char* kBillingRange =
    "SELECT " OAG_BILLING_COLUMNS
    "FROM billing WHERE time_ms >= $1 AND time_ms < $2 ORDER BY chain, seq";
inline constexpr const char* kBillingChain =
    "SELECT " OAG_BILLING_COLUMNS "FROM billing WHERE chain = $1 ORDER BY seq";
#undef OAG_BILLING_COLUMNS
inline constexpr const char* kBillingChains = "SELECT DISTINCT chain FROM billing ORDER BY chain";

inline constexpr const char* kFedGet =
    "SELECT fingerprint, response FROM federation_requests WHERE peer = $1 AND request_id = $2";
inline constexpr const char* kFedPut =
    "INSERT INTO federation_requests (peer, request_id, fingerprint, response, created_ms) VALUES "
    "($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

inline constexpr const char* kCertInsert =
    "INSERT INTO endpoint_certs (serial, nai, not_after_ms, issued_ms, pem) VALUES ($1, $2, $3, "
    "$4, $5) ON CONFLICT DO NOTHING";
inline constexpr const char* kCertRevokeNai =
    "UPDATE endpoint_certs SET revoked_ms = $2 WHERE nai = $1 AND revoked_ms IS NULL";
inline constexpr const char* kCertRevokeSerial =
    "UPDATE endpoint_certs SET revoked_ms = $2 WHERE serial = $1 AND revoked_ms IS NULL";
inline constexpr const char* kCertRevoked =
    "SELECT revoked_ms IS NOT NULL FROM endpoint_certs WHERE serial = $1";
inline constexpr const char* kCertList =
    "SELECT serial, nai, not_after_ms, issued_ms, revoked_ms, pem FROM endpoint_certs WHERE $1 = "
    "'' OR nai = $1 ORDER BY issued_ms DESC, serial";
inline constexpr const char* kCertBySerial =
    "SELECT serial, nai, not_after_ms, issued_ms, revoked_ms, pem FROM endpoint_certs WHERE "
    "serial = $1";

// --- the roaming login ---
inline constexpr const char* kPasswordGet =
    "SELECT pwd_key_enc FROM passwords WHERE subscriber_id = $1";
inline constexpr const char* kPasswordPut =
    "INSERT INTO passwords (subscriber_id, pwd_key_enc, updated_ms) VALUES ($1, $2, $3) "
    "ON CONFLICT (subscriber_id) DO UPDATE SET pwd_key_enc = excluded.pwd_key_enc, "
    "updated_ms = excluded.updated_ms";
inline constexpr const char* kPasswordDelete = "DELETE FROM passwords WHERE subscriber_id = $1";
inline constexpr const char* kPasswordAll =
    "SELECT p.subscriber_id, s.nai, p.pwd_key_enc FROM passwords p JOIN subscribers s ON s.id = "
    "p.subscriber_id ORDER BY p.subscriber_id";
inline constexpr const char* kPasswordSet =
    "UPDATE passwords SET pwd_key_enc = $2 WHERE subscriber_id = $1";
inline constexpr const char* kSessionAll = "SELECT id, ks2_enc FROM visitor_sessions ORDER BY id";
inline constexpr const char* kSessionSet = "UPDATE visitor_sessions SET ks2_enc = $2 WHERE id = $1";
inline constexpr const char* kFailuresGet =
    "SELECT failures, window_start_ms, locked_until_ms FROM login_failures WHERE nai = $1";
inline constexpr const char* kFailuresPut =
    "INSERT INTO login_failures (nai, failures, window_start_ms, locked_until_ms) VALUES ($1, $2, "
    "$3, $4) ON CONFLICT (nai) DO UPDATE SET failures = excluded.failures, window_start_ms = "
    "excluded.window_start_ms, locked_until_ms = excluded.locked_until_ms";
inline constexpr const char* kFailuresDelete = "DELETE FROM login_failures WHERE nai = $1";
inline constexpr const char* kNonceInsert =
    "INSERT INTO login_nonces (nai, n1, time_ms) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
inline constexpr const char* kNonceSeen = "SELECT 1 FROM login_nonces WHERE nai = $1 AND n1 = $2";
inline constexpr const char* kNoncePurge = "DELETE FROM login_nonces WHERE time_ms < $1";
inline constexpr const char* kSessionInsert =
    "INSERT INTO visitor_sessions (id, nai, ks2_enc, agreement, created_ms, expires_ms, "
    "certificate) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING";
inline constexpr const char* kSessionGet =
    "SELECT id, nai, ks2_enc, agreement, created_ms, expires_ms, certificate FROM visitor_sessions "
    "WHERE id = "
    "$1";

// Exact across instances: the row lock serialises the writers; the use grows only while it
// stays within the quota.
inline constexpr const char* kQuotaAdd =
    "INSERT INTO quota_usage AS q (agreement, period_start_ms, used) VALUES ($1, $2, $3) "
    "ON CONFLICT (agreement, period_start_ms) DO UPDATE SET used = q.used + excluded.used "
    "WHERE q.used + excluded.used <= $4";

inline constexpr const char* kSchemaVersion = "SELECT max(version) FROM oag_schema";

/// How an issue moves its SQN: not at all (sim), a first row for the slot, a compare-and-set.
enum class SqnMode { none, insert, step };

/// The one statement that writes an issue of `n` vectors (1..16): the vector rows, the SQN
/// step, the billing record; it returns the rows written of each (vectors, SQN: 1 when moved
/// or not asked, billing). Parameters: 11 per vector, then 3 (insert) or 4 (step) for the SQN,
/// then 19 for the billing record.
const char* issue_statement(std::size_t n, SqnMode mode);

}  // namespace oag::storage::postgresql::sql
