-- Named leases: which instance holds a singleton job (a Discord gateway
-- shard) and until when. A holder renews before expires_at; when it dies the
-- lease lapses and another instance takes it.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
