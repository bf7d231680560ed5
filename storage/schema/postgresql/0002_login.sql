-- Version 2: the roaming login and its certificates (DESIGN §7); the same changes as SQLite's
-- schema 6.
ALTER TABLE subscribers ALTER COLUMN imsi DROP NOT NULL;
ALTER TABLE subscribers DROP CONSTRAINT subscribers_kinds_check;
ALTER TABLE subscribers ADD CONSTRAINT subscribers_kinds_check CHECK (kinds BETWEEN 0 AND 3);
ALTER TABLE subscribers ADD CONSTRAINT subscribers_sim_check CHECK ((imsi IS NULL) = (kinds = 0));

ALTER TABLE agreements DROP CONSTRAINT agreements_kinds_check;
ALTER TABLE agreements ADD CONSTRAINT agreements_kinds_check CHECK (kinds BETWEEN 1 AND 15);
ALTER TABLE agreements ADD COLUMN user_ca_file text NOT NULL DEFAULT '';

CREATE TABLE passwords (
  subscriber_id bigint PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
  pwd_key_enc   bytea NOT NULL,
  updated_ms    bigint NOT NULL
);

CREATE TABLE login_failures (
  nai             text PRIMARY KEY,
  failures        integer NOT NULL,
  window_start_ms bigint NOT NULL,
  locked_until_ms bigint NOT NULL
);

CREATE TABLE login_nonces (
  nai     text NOT NULL,
  n1      bytea NOT NULL CHECK (length(n1) = 16),
  time_ms bigint NOT NULL,
  PRIMARY KEY (nai, n1)
);
CREATE INDEX login_nonces_time ON login_nonces (time_ms);

CREATE TABLE visitor_sessions (
  id         text PRIMARY KEY,
  nai        text NOT NULL,
  ks2_enc    bytea NOT NULL,
  agreement  text NOT NULL,
  created_ms bigint NOT NULL,
  expires_ms bigint NOT NULL,
  certificate text NOT NULL DEFAULT ''  -- the visitor's, PEM (verifies her charges)
);
CREATE INDEX visitor_sessions_expires ON visitor_sessions (expires_ms);

ALTER TABLE endpoint_certs ADD COLUMN pem text NOT NULL DEFAULT '';
ALTER TABLE billing ADD COLUMN detail text NOT NULL DEFAULT '';
