-- Decisions, action items, their audit trail, and TODO.md sync state.

CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace     TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    rationale     TEXT    NOT NULL,
    decided_by    TEXT    NOT NULL,          -- role or user who holds the decision
    authority     TEXT    NOT NULL,          -- role holding the category's authority
    recorded_by   TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'superseded')),
    meeting_id    INTEGER REFERENCES series (id),
    supersedes    INTEGER REFERENCES decisions (id),
    superseded_by INTEGER REFERENCES decisions (id),
    settled_by    TEXT,
    settle_note   TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX decisions_by_workspace ON decisions (workspace, created_at);

CREATE VIRTUAL TABLE decisions_fts USING fts5 (
    title, rationale, category, content = 'decisions', content_rowid = 'id', tokenize = 'porter unicode61'
);
CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN
    INSERT INTO decisions_fts (rowid, title, rationale, category) VALUES (new.id, new.title, new.rationale, new.category);
END;
CREATE TRIGGER decisions_fts_update AFTER UPDATE OF title, rationale, category ON decisions BEGIN
    INSERT INTO decisions_fts (decisions_fts, rowid, title, rationale, category) VALUES ('delete', old.id, old.title, old.rationale, old.category);
    INSERT INTO decisions_fts (rowid, title, rationale, category) VALUES (new.id, new.title, new.rationale, new.category);
END;

CREATE TABLE actions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace   TEXT    NOT NULL,
    task        TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    due_date    TEXT,                        -- YYYY-MM-DD in the owner's zone
    priority    TEXT    NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
    status      TEXT    NOT NULL CHECK (status IN ('open', 'done', 'verified', 'reopened')),
    meeting_id  INTEGER REFERENCES series (id),
    decision_id INTEGER REFERENCES decisions (id),
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    done_by     TEXT,
    done_at     INTEGER,
    verified_by TEXT,
    verified_at INTEGER
);
CREATE INDEX actions_by_owner ON actions (workspace, owner, status);
CREATE INDEX actions_open_due ON actions (due_date) WHERE status IN ('open', 'reopened');

-- Every change to a decision or an action item: who, when, what.
CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace TEXT    NOT NULL,
    entity    TEXT    NOT NULL CHECK (entity IN ('decision', 'action')),
    entity_id INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    change    TEXT    NOT NULL
);
CREATE INDEX audit_by_entity ON audit (workspace, entity, entity_id, id);

-- What a TODO.md file and Quorum agreed on at the last sync, per item.
CREATE TABLE todo_sync (
    workspace TEXT    NOT NULL,
    file      TEXT    NOT NULL,
    action_id INTEGER NOT NULL,
    line      TEXT    NOT NULL,             -- the item as rendered at the last sync
    PRIMARY KEY (workspace, file, action_id)
);
