-- Every occurrence of a series is a record with its own state, series have a
-- duration and an optional capture mode, agenda items have an outcome, and
-- notes and recorded items attach to an occurrence. Instants are UTC unix
-- seconds. Existing skips become skipped occurrences.

ALTER TABLE series ADD COLUMN duration_secs INTEGER NOT NULL DEFAULT 3600;
ALTER TABLE series ADD COLUMN capture TEXT NOT NULL DEFAULT 'none';

-- `at` is when the occurrence takes place; `original_at` is the slot of the
-- cadence it replaces when it was moved there. A moved slot keeps its own row
-- in state 'moved', pointing nowhere: the replacement names it.
CREATE TABLE occurrences (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace   TEXT    NOT NULL,
    series_id   INTEGER NOT NULL REFERENCES series (id),
    at          INTEGER NOT NULL,
    original_at INTEGER,
    state       TEXT    NOT NULL DEFAULT 'scheduled'
                CHECK (state IN ('scheduled', 'held', 'skipped', 'moved', 'cancelled')),
    changed_by  TEXT    NOT NULL,
    changed_at  INTEGER NOT NULL,
    UNIQUE (series_id, at)
);

INSERT INTO occurrences (workspace, series_id, at, state, changed_by, changed_at)
SELECT s.workspace, k.series_id, k.occurrence_at, 'skipped', k.skipped_by, k.skipped_at
FROM skips k JOIN series s ON s.id = k.series_id;

DROP TABLE skips;

-- What a meeting did with an agenda item: covered_at is set by
-- /meeting agenda done:N; an uncovered item is copied to the next occurrence
-- (carried_from names the copy's source, once) with its carry count.
ALTER TABLE agenda_items ADD COLUMN covered_at INTEGER;
ALTER TABLE agenda_items ADD COLUMN carried INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agenda_items ADD COLUMN carried_from INTEGER;
CREATE UNIQUE INDEX agenda_carried_once ON agenda_items (carried_from);

CREATE TABLE meeting_notes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace     TEXT    NOT NULL,
    series_id     INTEGER NOT NULL REFERENCES series (id),
    occurrence_at INTEGER NOT NULL,
    text          TEXT    NOT NULL,
    added_by      TEXT    NOT NULL,
    added_at      INTEGER NOT NULL
);
CREATE INDEX notes_by_occurrence ON meeting_notes (series_id, occurrence_at);

-- Decisions and action items recorded at (or for) an occurrence.
CREATE TABLE occurrence_items (
    series_id     INTEGER NOT NULL REFERENCES series (id),
    occurrence_at INTEGER NOT NULL,
    entity        TEXT    NOT NULL CHECK (entity IN ('decision', 'action')),
    entity_id     INTEGER NOT NULL,
    PRIMARY KEY (entity, entity_id)
);
CREATE INDEX items_by_occurrence ON occurrence_items (series_id, occurrence_at);
