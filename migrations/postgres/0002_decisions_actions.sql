-- Decisions, action items, their audit trail, and TODO.md sync state.

CREATE TABLE decisions (
    id            BIGSERIAL PRIMARY KEY,
    workspace     TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    rationale     TEXT    NOT NULL,
    decided_by    TEXT    NOT NULL,          -- role or user who holds the decision
    authority     TEXT    NOT NULL,          -- role holding the category's authority
    recorded_by   TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'superseded')),
    meeting_id    BIGINT REFERENCES series (id),
    supersedes    BIGINT REFERENCES decisions (id),
    superseded_by BIGINT REFERENCES decisions (id),
    settled_by    TEXT,
    settle_note   TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX decisions_by_workspace ON decisions (workspace, created_at);

-- Full-text search: title weighs most, then category, then rationale. An
-- expression index (no extra column), matched by the store's search query.
CREATE INDEX decisions_search ON decisions USING GIN ((
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', category), 'B') ||
    setweight(to_tsvector('english', rationale), 'C')
));

CREATE TABLE actions (
    id          BIGSERIAL PRIMARY KEY,
    workspace   TEXT    NOT NULL,
    task        TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    due_date    TEXT,                        -- YYYY-MM-DD in the owner's zone
    priority    TEXT    NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    status      TEXT    NOT NULL CHECK (status IN ('open', 'done', 'verified', 'reopened')),
    meeting_id  BIGINT REFERENCES series (id),
    decision_id BIGINT REFERENCES decisions (id),
    created_by  TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    done_by     TEXT,
    done_at     BIGINT,
    verified_by TEXT,
    verified_at BIGINT
);
CREATE INDEX actions_by_owner ON actions (workspace, owner, status);
CREATE INDEX actions_open_due ON actions (due_date) WHERE status IN ('open', 'reopened');

-- Every change to a decision or an action item: who, when, what.
CREATE TABLE audit (
    id        BIGSERIAL PRIMARY KEY,
    workspace TEXT    NOT NULL,
    entity    TEXT    NOT NULL CHECK (entity IN ('decision', 'action')),
    entity_id BIGINT NOT NULL,
    actor     TEXT    NOT NULL,
    at        BIGINT NOT NULL,
    change    TEXT    NOT NULL
);
CREATE INDEX audit_by_entity ON audit (workspace, entity, entity_id, id);

-- What a TODO.md file and Quorum agreed on at the last sync, per item.
CREATE TABLE todo_sync (
    workspace TEXT    NOT NULL,
    file      TEXT    NOT NULL,
    action_id BIGINT NOT NULL,
    line      TEXT    NOT NULL,             -- the item as rendered at the last sync
    PRIMARY KEY (workspace, file, action_id)
);
