-- Meeting series, their agenda, skipped occurrences, and the delivery queue.
-- PostgreSQL twin of migrations/sqlite. Instants are UTC unix seconds; every series carries its IANA zone name.

CREATE TABLE series (
    id          BIGSERIAL PRIMARY KEY,
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
    next_at     BIGINT,                   -- next occurrence, NULL when there is none
    created_by  TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX series_by_workspace ON series (workspace, id);
CREATE INDEX series_due ON series (next_at) WHERE status = 'active';

CREATE TABLE skips (
    series_id     BIGINT NOT NULL REFERENCES series (id),
    occurrence_at BIGINT NOT NULL,
    skipped_by    TEXT    NOT NULL,
    skipped_at    BIGINT NOT NULL,
    PRIMARY KEY (series_id, occurrence_at)
);

CREATE TABLE agenda_items (
    id            BIGSERIAL PRIMARY KEY,
    workspace     TEXT    NOT NULL,
    series_id     BIGINT NOT NULL REFERENCES series (id),
    occurrence_at BIGINT NOT NULL,        -- the occurrence whose reminder shows it
    text          TEXT    NOT NULL,
    added_by      TEXT    NOT NULL,
    added_at      BIGINT NOT NULL
);
CREATE INDEX agenda_by_occurrence ON agenda_items (series_id, occurrence_at);

-- Everything Quorum posts goes through here: pending -> sending -> sent,
-- or missed (too late after downtime), failed (retries exhausted), cancelled.
CREATE TABLE deliveries (
    id            BIGSERIAL PRIMARY KEY,
    workspace     TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('reminder', 'notice')),
    dedupe_key    TEXT    NOT NULL UNIQUE,
    channel       TEXT    NOT NULL,
    series_id     BIGINT REFERENCES series (id),
    occurrence_at BIGINT,
    lead_secs     BIGINT,
    body          TEXT,                    -- notices only; reminders render at send time
    due_at        BIGINT NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sending', 'sent', 'missed', 'failed', 'cancelled')),
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_try_at   BIGINT NOT NULL,
    lease_until   BIGINT,
    sent_at       BIGINT,
    late          BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_try_at) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_by_series ON deliveries (series_id, state);
