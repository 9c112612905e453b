-- Escalations, their timeline, and the link from a delivery to the
-- escalation whose state it depends on.

CREATE TABLE escalations (
    id           BIGSERIAL PRIMARY KEY,
    workspace    TEXT    NOT NULL,
    topic        TEXT    NOT NULL,
    severity     TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    summary      TEXT    NOT NULL,
    raised_by    TEXT    NOT NULL,
    raised_in    TEXT    NOT NULL,          -- channel it was raised from
    routed_to    TEXT    NOT NULL,          -- the relevant executive's role
    level        BIGINT NOT NULL,          -- index into the escalation's steps
    state        TEXT    NOT NULL CHECK (state IN ('waiting', 'open', 'acked', 'resolved')),
    post_at      BIGINT,                   -- waiting: when working hours begin
    deadline_at  BIGINT,                   -- open: when it climbs (NULL: nothing more will happen)
    repeats      BIGINT NOT NULL DEFAULT 0,
    acked_by     TEXT,
    acked_at     BIGINT,
    follow_up_at BIGINT,
    follow_ups   BIGINT NOT NULL DEFAULT 0,
    resolved_by  TEXT,
    resolved_at  BIGINT,
    resolution   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX escalations_by_workspace ON escalations (workspace, state, id);
CREATE INDEX escalations_deadline ON escalations (deadline_at) WHERE state = 'open';
CREATE INDEX escalations_waiting ON escalations (post_at) WHERE state = 'waiting';
CREATE INDEX escalations_follow_up ON escalations (follow_up_at) WHERE state = 'acked';

CREATE TABLE escalation_events (
    id            BIGSERIAL PRIMARY KEY,
    escalation_id BIGINT NOT NULL REFERENCES escalations (id),
    at            BIGINT NOT NULL,
    actor         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,         -- raised, posted, climbed, repeated, acked, resolved, raised-manually, reassigned, follow-up, gave-up
    detail        TEXT    NOT NULL
);
CREATE INDEX escalation_events_by_escalation ON escalation_events (escalation_id, id);

ALTER TABLE deliveries ADD COLUMN escalation_id BIGINT REFERENCES escalations (id);
-- Sent only while the escalation is in this state (checked under its lock).
ALTER TABLE deliveries ADD COLUMN requires_state TEXT;
-- Chat users to ping, comma-separated.
ALTER TABLE deliveries ADD COLUMN mention TEXT;
