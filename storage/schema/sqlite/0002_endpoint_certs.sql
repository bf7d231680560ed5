-- Version 2: endpoint certificates issued by `oagctl endpoint issue-cert`, so that
-- `oagctl endpoint revoke` can name them and oagd can refuse a revoked one.
CREATE TABLE endpoint_certs (
  serial       TEXT PRIMARY KEY,  -- lower-case hex, as in the certificate
  nai          TEXT NOT NULL,
  not_after_ms INTEGER NOT NULL,
  issued_ms    INTEGER NOT NULL,
  revoked_ms   INTEGER
) STRICT;
CREATE INDEX endpoint_certs_nai ON endpoint_certs (nai);
