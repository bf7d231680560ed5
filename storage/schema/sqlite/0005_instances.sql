-- Version 5: several instances on one database (DESIGN §10).
-- SQN per (subscriber, IND): an instance steps only its own slot's row. subscribers.seq_he stays
-- the SEQ every slot starts from (provisioning, `subscriber set-seq`); a slot gets its row when
-- it first issues. A database of version 4 kept one SEQ for all slots, the highest issued: as
-- the base, every slot continues above it.
CREATE TABLE sqn_slots (
  subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
  ind           INTEGER NOT NULL CHECK (ind >= 0),
  seq           INTEGER NOT NULL CHECK (seq >= 0),
  PRIMARY KEY (subscriber_id, ind)
) STRICT, WITHOUT ROWID;

-- One billing chain per instance, gap-free per chain; the records of version 4 form the chain
-- "main" (the default store.instance), their hashes unchanged (the chain name is not hashed).
CREATE TABLE billing_v5 (
  chain             TEXT NOT NULL,
  seq               INTEGER NOT NULL,
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
  hash              TEXT NOT NULL,
  PRIMARY KEY (chain, seq)
) STRICT;
INSERT INTO billing_v5 (chain, seq, time_ms, role, event, requester, subject, requester_realm,
                        subject_realm, agreement, kind, count, unit_price_micros, currency,
                        request_id, rand_sha256, outcome, prev_hash, hash)
  SELECT 'main', seq, time_ms, role, event, requester, subject, requester_realm, subject_realm,
         agreement, kind, count, unit_price_micros, currency, request_id, rand_sha256, outcome,
         prev_hash, hash
  FROM billing;
DROP TABLE billing;
ALTER TABLE billing_v5 RENAME TO billing;
CREATE INDEX billing_time ON billing (time_ms);
