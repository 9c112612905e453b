-- The risk register: each risk has an owner, a severity, a mitigation plan
-- and a review cadence; its owner is reminded when a review falls due
-- (next_review_at, UTC unix seconds; NULL once closed). Changes to a risk
-- go to the audit trail as entity 'risk'.

CREATE TABLE risks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace      TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    owner          TEXT    NOT NULL,
    mitigation     TEXT    NOT NULL,
    review         TEXT    NOT NULL CHECK (review IN ('weekly', 'monthly', 'quarterly')),
    status         TEXT    NOT NULL CHECK (status IN ('open', 'mitigating', 'accepted', 'closed')),
    next_review_at INTEGER,
    created_by     TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    closed_by      TEXT,
    closed_at      INTEGER
);
CREATE INDEX risks_by_workspace ON risks (workspace, status, owner);
CREATE INDEX risks_review_due ON risks (next_review_at) WHERE status != 'closed';

-- The audit trail also records risks: SQLite cannot change a CHECK in
-- place, so the table is rebuilt with its rows and ids.
CREATE TABLE audit_0013 (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT    NOT NULL,
    entity    TEXT    NOT NULL CHECK (entity IN ('decision', 'action', 'risk')),
    entity_id INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    change    TEXT    NOT NULL
);
INSERT INTO audit_0013 (id, workspace, entity, entity_id, actor, at, change)
SELECT id, workspace, entity, entity_id, actor, at, change FROM audit;
DROP TABLE audit;
ALTER TABLE audit_0013 RENAME TO audit;
CREATE INDEX audit_by_entity ON audit (workspace, entity, entity_id, id);
