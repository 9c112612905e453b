-- Escalations Quorum raises on its own (a proposed decision nobody
-- approved, an action item overdue too long) carry the key of what they are
-- about, so each is raised once however many ticks or instances see it.
ALTER TABLE escalations ADD COLUMN source TEXT;
CREATE UNIQUE INDEX escalations_by_source ON escalations (source);
-- Proposed decisions are found by age for the approval chase.
CREATE INDEX decisions_proposed ON decisions (created_at) WHERE status = 'proposed';
-- Attending / Can't make it, per occurrence (a reminder's buttons or
-- /meeting attend): one answer per person, the latest wins.
CREATE TABLE attendance (
    workspace     TEXT    NOT NULL,
    series_id     INTEGER NOT NULL REFERENCES series (id),
    occurrence_at INTEGER NOT NULL,
    person        TEXT    NOT NULL,
    attending     INTEGER NOT NULL CHECK (attending IN (0, 1)),
    answered_at   INTEGER NOT NULL,
    PRIMARY KEY (series_id, occurrence_at, person)
);
