-- Version 6: the roaming login and its certificates (DESIGN §7).
-- Subscribers without a SIM (password users): no IMSI, no kinds, empty key columns. SQLite
-- cannot relax a column or a CHECK in place, so the table is rebuilt (its row ids kept, which
-- the rows of vectors, sqn_slots and passwords refer to); the migration runs with foreign key
-- enforcement off and checks every reference before it commits.
CREATE TABLE subscribers_v6 (
  id              INTEGER PRIMARY KEY,
  nai             TEXT NOT NULL UNIQUE,
  imsi            TEXT UNIQUE,  -- NULL: no SIM
  algorithm       TEXT NOT NULL CHECK (algorithm IN ('milenage', 'xor', 'tuak')),
  k_enc           BLOB NOT NULL,  -- empty without a SIM
  opc_enc         BLOB NOT NULL,
  tuak_res_len    INTEGER NOT NULL DEFAULT 8,
  tuak_iterations INTEGER NOT NULL DEFAULT 1,
  amf             BLOB NOT NULL CHECK (length(amf) = 2),
  seq_he          INTEGER NOT NULL CHECK (seq_he >= 0),
  ind_len         INTEGER NOT NULL CHECK (ind_len BETWEEN 0 AND 10),
  kinds           INTEGER NOT NULL CHECK (kinds BETWEEN 0 AND 3),
  state           TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'revoked')),
  created_ms      INTEGER NOT NULL,
  CHECK ((imsi IS NULL) = (kinds = 0))
) STRICT;
INSERT INTO subscribers_v6 SELECT * FROM subscribers;
DROP TABLE subscribers;
ALTER TABLE subscribers_v6 RENAME TO subscribers;

-- Agreements gain the kinds login (4) and certificates (8), and the peer's user CA: the anchor
-- for its subscribers' certificates.
CREATE TABLE agreements_v6 (
  id                TEXT PRIMARY KEY,
  peer_realms       TEXT NOT NULL,
  peer_url          TEXT NOT NULL,
  trust_ca_file     TEXT NOT NULL,
  trust_spki_sha256 TEXT NOT NULL,
  kinds             INTEGER NOT NULL CHECK (kinds BETWEEN 1 AND 15),
  rate_per_s        REAL NOT NULL,
  burst             INTEGER NOT NULL,
  quota             INTEGER NOT NULL,
  quota_period      TEXT NOT NULL CHECK (quota_period IN ('day', 'month')),
  price_micros      INTEGER NOT NULL,
  currency          TEXT NOT NULL,
  valid_from_ms     INTEGER NOT NULL,
  valid_until_ms    INTEGER NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'revoked')),
  user_ca_file      TEXT NOT NULL DEFAULT ''
) STRICT;
INSERT INTO agreements_v6 (id, peer_realms, peer_url, trust_ca_file, trust_spki_sha256, kinds,
                           rate_per_s, burst, quota, quota_period, price_micros, currency,
                           valid_from_ms, valid_until_ms, state)
  SELECT id, peer_realms, peer_url, trust_ca_file, trust_spki_sha256, kinds, rate_per_s, burst,
         quota, quota_period, price_micros, currency, valid_from_ms, valid_until_ms, state
  FROM agreements;
DROP TABLE agreements;
ALTER TABLE agreements_v6 RENAME TO agreements;

-- pwd_key (never the password), sealed like K under the master key with the NAI bound.
CREATE TABLE passwords (
  subscriber_id INTEGER PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
  pwd_key_enc   BLOB NOT NULL,
  updated_ms    INTEGER NOT NULL
) STRICT;

-- Failed logins per NAI of this realm, known or not (so that a lockout does not tell them
-- apart): five within 15 minutes lock it for 15 minutes.
CREATE TABLE login_failures (
  nai             TEXT PRIMARY KEY,  -- lower case
  failures        INTEGER NOT NULL,
  window_start_ms INTEGER NOT NULL,
  locked_until_ms INTEGER NOT NULL
) STRICT;

-- n1 of every login the HA opened, kept roaming.nonce_days: a replayed M2 is refused.
CREATE TABLE login_nonces (
  nai     TEXT NOT NULL,
  n1      BLOB NOT NULL CHECK (length(n1) = 16),
  time_ms INTEGER NOT NULL,
  PRIMARY KEY (nai, n1)
) STRICT, WITHOUT ROWID;
CREATE INDEX login_nonces_time ON login_nonces (time_ms);

-- The FA's sessions with visitors: Ks2 sealed under the master key, the session id bound.
CREATE TABLE visitor_sessions (
  id         TEXT PRIMARY KEY,
  nai        TEXT NOT NULL,
  ks2_enc    BLOB NOT NULL,
  agreement  TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  certificate TEXT NOT NULL DEFAULT ''  -- the visitor's, PEM (verifies her charges)
) STRICT;
CREATE INDEX visitor_sessions_expires ON visitor_sessions (expires_ms);

-- A certificate the daemon issued keeps its PEM (to hand out, DESIGN §8).
ALTER TABLE endpoint_certs ADD COLUMN pem TEXT NOT NULL DEFAULT '';

-- What a record bills beyond its columns (a charge's signed order); hashed when not empty, so
-- that earlier records keep their hashes.
ALTER TABLE billing ADD COLUMN detail TEXT NOT NULL DEFAULT '';
