-- The risk register: each risk has an owner, a severity, a mitigation plan
-- and a review cadence; its owner is reminded when a review falls due
-- (next_review_at, UTC unix seconds; NULL once closed). Changes to a risk
-- go to the audit trail as entity 'risk'.

CREATE TABLE risks (
    id             BIGSERIAL PRIMARY KEY,
    workspace      TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    severity       TEXT    NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    owner          TEXT    NOT NULL,
    mitigation     TEXT    NOT NULL,
    review         TEXT    NOT NULL CHECK (review IN ('weekly', 'monthly', 'quarterly')),
    status         TEXT    NOT NULL CHECK (status IN ('open', 'mitigating', 'accepted', 'closed')),
    next_review_at BIGINT,
    created_by     TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    closed_by      TEXT,
    closed_at      BIGINT
);
CREATE INDEX risks_by_workspace ON risks (workspace, status, owner);
CREATE INDEX risks_review_due ON risks (next_review_at) WHERE status != 'closed';

ALTER TABLE audit DROP CONSTRAINT audit_entity_check;
ALTER TABLE audit ADD CONSTRAINT audit_entity_check CHECK (entity IN ('decision', 'action', 'risk'));
