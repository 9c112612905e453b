-- The calendar feed: a revision number per series (the feed's SEQUENCE,
-- bumped on every edit and skip so calendar clients update instead of
-- duplicating), a series' weekend/holiday shift, and the feed tokens.
-- A token is a public selector plus a secret verifier; only the verifier's
-- SHA-256 is stored. Revoked tokens keep their row (revoked_at set).

ALTER TABLE series ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE series ADD COLUMN shift TEXT NOT NULL DEFAULT 'none'
    CHECK (shift IN ('none', 'next-weekday', 'previous-weekday'));

CREATE TABLE calendar_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace     TEXT    NOT NULL,
    issued_to     TEXT    NOT NULL,          -- the chat user who asked for it
    selector      TEXT    NOT NULL UNIQUE,   -- hex, shown in the URL
    verifier_hash TEXT    NOT NULL,          -- hex SHA-256 of the secret part
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX calendar_tokens_by_user ON calendar_tokens (workspace, issued_to);
