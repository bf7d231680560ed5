-- OAG SQLite schema, version 1. Forward-only: later changes are new numbered files.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- K and OPc are AES-256-GCM blobs (storage/master_key.hpp), bound to the NAI.
CREATE TABLE subscribers (
  id              INTEGER PRIMARY KEY,
  nai             TEXT NOT NULL UNIQUE,
  imsi            TEXT NOT NULL UNIQUE,
  algorithm       TEXT NOT NULL CHECK (algorithm IN ('milenage', 'xor', 'tuak')),
  k_enc           BLOB NOT NULL,
  opc_enc         BLOB NOT NULL,
  tuak_res_len    INTEGER NOT NULL DEFAULT 8,
  tuak_iterations INTEGER NOT NULL DEFAULT 1,
  amf             BLOB NOT NULL CHECK (length(amf) = 2),
  seq_he          INTEGER NOT NULL CHECK (seq_he >= 0),
  ind_len         INTEGER NOT NULL CHECK (ind_len BETWEEN 0 AND 10),
  kinds           INTEGER NOT NULL CHECK (kinds BETWEEN 1 AND 3),
  state           TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'revoked')),
  created_ms      INTEGER NOT NULL
) STRICT;

-- One row per issued vector; no RES or key is kept, only what proves the issue.
CREATE TABLE vectors (
  id            TEXT PRIMARY KEY,
  subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  kind          TEXT NOT NULL CHECK (kind IN ('sim', 'aka')),
  rand          BLOB NOT NULL CHECK (length(rand) = 16),
  sqn           INTEGER,
  requester     TEXT NOT NULL,
  request_id    TEXT NOT NULL,
  role          TEXT NOT NULL,
  agreement     TEXT NOT NULL,
  issued_ms     INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL,
  outcome       TEXT CHECK (outcome IN ('success', 'failure')),
  UNIQUE (subscriber_id, rand)
) STRICT;

CREATE TABLE agreements (
  id                TEXT PRIMARY KEY,
  peer_realms       TEXT NOT NULL,  -- ",realm1,realm2,"
  peer_url          TEXT NOT NULL,
  trust_ca_file     TEXT NOT NULL,
  trust_spki_sha256 TEXT NOT NULL,
  kinds             INTEGER NOT NULL CHECK (kinds BETWEEN 1 AND 3),
  rate_per_s        REAL NOT NULL,
  burst             INTEGER NOT NULL,
  quota             INTEGER NOT NULL,
  quota_period      TEXT NOT NULL CHECK (quota_period IN ('day', 'month')),
  price_micros      INTEGER NOT NULL,
  currency          TEXT NOT NULL,
  valid_from_ms     INTEGER NOT NULL,
  valid_until_ms    INTEGER NOT NULL,
  state             TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'revoked'))
) STRICT;

-- Append-only, gap-free, hash-chained (storage/billing_chain.hpp).
CREATE TABLE billing (
  seq               INTEGER PRIMARY KEY,
  time_ms           INTEGER NOT NULL,
  role              TEXT NOT NULL CHECK (role IN ('local', 'sold', 'bought')),
  event             TEXT NOT NULL,
  requester         TEXT NOT NULL,
  subject           TEXT NOT NULL,
  requester_realm   TEXT NOT NULL,
  subject_realm     TEXT NOT NULL,
  agreement         TEXT NOT NULL,
  kind              TEXT NOT NULL,
  count             INTEGER NOT NULL,
  unit_price_micros INTEGER NOT NULL,
  currency          TEXT NOT NULL,
  request_id        TEXT NOT NULL,
  rand_sha256       TEXT NOT NULL,
  outcome           TEXT NOT NULL,
  prev_hash         TEXT NOT NULL,
  hash              TEXT NOT NULL
) STRICT;
CREATE INDEX billing_time ON billing (time_ms);

-- Idempotent federation retries: (peer, request_id) -> the sealed answer.
CREATE TABLE federation_requests (
  peer        TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  response    BLOB NOT NULL,
  created_ms  INTEGER NOT NULL,
  PRIMARY KEY (peer, request_id)
) STRICT;
