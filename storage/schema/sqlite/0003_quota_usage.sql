-- Version 3: vectors sold per agreement and quota period, kept in the issuing transaction so
-- that a quota is exact under concurrency (the single writer reads and bumps it).
CREATE TABLE quota_usage (
  agreement       TEXT NOT NULL,
  period_start_ms INTEGER NOT NULL,
  used            INTEGER NOT NULL CHECK (used >= 0),
  PRIMARY KEY (agreement, period_start_ms)
) STRICT;
