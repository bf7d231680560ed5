-- OAG PostgreSQL schema, version 1: the same tables as SQLite's schema 5 (several instances on
-- one database, DESIGN §10). Forward-only: later changes are new numbered files, each applied
-- in its own transaction; the version is in oag_schema.
CREATE TABLE meta (
  key   text PRIMARY KEY,
  value text NOT NULL
);

-- K and OPc are AES-256-GCM blobs (storage/master_key.hpp), bound to the NAI.
CREATE TABLE subscribers (
  id              bigserial PRIMARY KEY,
  nai             text NOT NULL UNIQUE,
  imsi            text NOT NULL UNIQUE,
  algorithm       text NOT NULL CHECK (algorithm IN ('milenage', 'xor', 'tuak')),
  k_enc           bytea NOT NULL,
  opc_enc         bytea NOT NULL,
  tuak_res_len    bigint NOT NULL DEFAULT 8,
  tuak_iterations bigint NOT NULL DEFAULT 1,
  amf             bytea NOT NULL CHECK (length(amf) = 2),
  seq_he          bigint NOT NULL CHECK (seq_he >= 0),
  ind_len         integer NOT NULL CHECK (ind_len BETWEEN 0 AND 10),
  kinds           integer NOT NULL CHECK (kinds BETWEEN 1 AND 3),
  state           text NOT NULL CHECK (state IN ('active', 'suspended', 'revoked')),
  created_ms      bigint NOT NULL
);

-- SQN per (subscriber, IND): each instance steps only its own slot's row.
CREATE TABLE sqn_slots (
  subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  ind           integer NOT NULL CHECK (ind >= 0),
  seq           bigint NOT NULL CHECK (seq >= 0),
  PRIMARY KEY (subscriber_id, ind)
);

-- One row per issued vector; no RES or key is kept, only what proves the issue.
CREATE TABLE vectors (
  id            text PRIMARY KEY,
  subscriber_id bigint NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  kind          text NOT NULL CHECK (kind IN ('sim', 'aka')),
  rand          bytea NOT NULL CHECK (length(rand) = 16),
  sqn           bigint,
  requester     text NOT NULL,
  request_id    text NOT NULL,
  role          text NOT NULL,
  agreement     text NOT NULL,
  issued_ms     bigint NOT NULL,
  expires_ms    bigint NOT NULL,
  outcome       text CHECK (outcome IN ('success', 'failure')),
  UNIQUE (subscriber_id, rand)
);

CREATE TABLE agreements (
  id                text PRIMARY KEY,
  peer_realms       text NOT NULL,  -- ",realm1,realm2,"
  peer_url          text NOT NULL,
  trust_ca_file     text NOT NULL,
  trust_spki_sha256 text NOT NULL,
  kinds             integer NOT NULL CHECK (kinds BETWEEN 1 AND 3),
  rate_per_s        double precision NOT NULL,
  burst             bigint NOT NULL,
  quota             bigint NOT NULL,
  quota_period      text NOT NULL CHECK (quota_period IN ('day', 'month')),
  price_micros      bigint NOT NULL,
  currency          text NOT NULL,
  valid_from_ms     bigint NOT NULL,
  valid_until_ms    bigint NOT NULL,
  state             text NOT NULL CHECK (state IN ('active', 'suspended', 'revoked'))
);

-- Append-only, gap-free per chain (one chain per instance), hash-chained.
CREATE TABLE billing (
  chain             text NOT NULL,
  seq               bigint NOT NULL,
  time_ms           bigint NOT NULL,
  role              text NOT NULL CHECK (role IN ('local', 'sold', 'bought')),
  event             text NOT NULL,
  requester         text NOT NULL,
  subject           text NOT NULL,
  requester_realm   text NOT NULL,
  subject_realm     text NOT NULL,
  agreement         text NOT NULL,
  kind              text NOT NULL,
  count             bigint NOT NULL,
  unit_price_micros bigint NOT NULL,
  currency          text NOT NULL,
  request_id        text NOT NULL,
  rand_sha256       text NOT NULL,
  outcome           text NOT NULL,
  prev_hash         text NOT NULL,
  hash              text NOT NULL,
  PRIMARY KEY (chain, seq)
);
CREATE INDEX billing_time ON billing (time_ms);

-- Idempotent federation retries: (peer, request_id) -> the sealed answer.
CREATE TABLE federation_requests (
  peer        text NOT NULL,
  request_id  text NOT NULL,
  fingerprint text NOT NULL,
  response    bytea NOT NULL,
  created_ms  bigint NOT NULL,
  PRIMARY KEY (peer, request_id)
);

CREATE TABLE endpoint_certs (
  serial       text PRIMARY KEY,
  nai          text NOT NULL,
  not_after_ms bigint NOT NULL,
  issued_ms    bigint NOT NULL,
  revoked_ms   bigint
);
CREATE INDEX endpoint_certs_nai ON endpoint_certs (nai);

-- Vectors sold per agreement and quota period; the issuing transaction's conditional update
-- keeps it exact across instances.
CREATE TABLE quota_usage (
  agreement       text NOT NULL,
  period_start_ms bigint NOT NULL,
  used            bigint NOT NULL CHECK (used >= 0),
  PRIMARY KEY (agreement, period_start_ms)
);

CREATE TABLE bought_vectors (
  id         text NOT NULL,
  agreement  text NOT NULL,
  subject    text NOT NULL,
  requester  text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('sim', 'aka')),
  rand       bytea NOT NULL CHECK (length(rand) = 16),
  request_id text NOT NULL,
  issued_ms  bigint NOT NULL,
  outcome    text CHECK (outcome IN ('success', 'failure')),
  PRIMARY KEY (id, requester)
);
