-- Version 4: the vectors a broker bought from peers, keyed by the issuer's vector id, so that an
-- endpoint reports the outcome of a brokered vector to its own gateway like a local one.
CREATE TABLE bought_vectors (
  id         TEXT NOT NULL,
  agreement  TEXT NOT NULL,
  subject    TEXT NOT NULL,
  requester  TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('sim', 'aka')),
  rand       BLOB NOT NULL CHECK (length(rand) = 16),
  request_id TEXT NOT NULL,
  issued_ms  INTEGER NOT NULL,
  outcome    TEXT CHECK (outcome IN ('success', 'failure')),
  PRIMARY KEY (id, requester)
) STRICT;
