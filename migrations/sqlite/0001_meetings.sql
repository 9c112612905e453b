-- Meeting series, their agenda, skipped occurrences, and the delivery queue.
-- Instants are UTC unix seconds; every series carries its IANA zone name.

CREATE TABLE series (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace   TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    cadence     TEXT    NOT NULL,          -- canonical cadence text
    rrule       TEXT,                      -- canonical RFC 5545 RRULE (NULL for once and cron)
    tz          TEXT    NOT NULL,
    anchor_date TEXT    NOT NULL,          -- YYYY-MM-DD: phase of "every N weeks"
    channel     TEXT    NOT NULL,
    attendees   TEXT    NOT NULL DEFAULT '',
    remind      TEXT    NOT NULL,          -- lead times, e.g. 1d,15m
    status      TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled', 'ended')),
    next_at     INTEGER,                   -- next occurrence, NULL when there is none
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX series_by_workspace ON series (workspace, id);
CREATE INDEX series_due ON series (next_at) WHERE status = 'active';

CREATE TABLE skips (
    series_id     INTEGER NOT NULL REFERENCES series (id),
    occurrence_at INTEGER NOT NULL,
    skipped_by    TEXT    NOT NULL,
    skipped_at    INTEGER NOT NULL,
    PRIMARY KEY (series_id, occurrence_at)
);

CREATE TABLE agenda_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace     TEXT    NOT NULL,
    series_id     INTEGER NOT NULL REFERENCES series (id),
    occurrence_at INTEGER NOT NULL,        -- the occurrence whose reminder shows it
    text          TEXT    NOT NULL,
    added_by      TEXT    NOT NULL,
    added_at      INTEGER NOT NULL
);
CREATE INDEX agenda_by_occurrence ON agenda_items (series_id, occurrence_at);

-- Everything Quorum posts goes through here: pending -> sending -> sent,
-- or missed (too late after downtime), failed (retries exhausted), cancelled.
CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace     TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('reminder', 'notice')),
    dedupe_key    TEXT    NOT NULL UNIQUE,
    channel       TEXT    NOT NULL,
    series_id     INTEGER REFERENCES series (id),
    occurrence_at INTEGER,
    lead_secs     INTEGER,
    body          TEXT,                    -- notices only; reminders render at send time
    due_at        INTEGER NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sending', 'sent', 'missed', 'failed', 'cancelled')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_try_at   INTEGER NOT NULL,
    lease_until   INTEGER,
    sent_at       INTEGER,
    late          INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_try_at) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_by_series ON deliveries (series_id, state);
