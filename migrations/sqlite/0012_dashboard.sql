-- The dashboard: one-use sign-in links and the sessions they open. Only the
-- SHA-256 of each secret is stored. A link is consumed by setting used_at
-- (one UPDATE ... WHERE used_at IS NULL, so two racing uses cannot both
-- win); a session lasts until expires_at. Both carry the workspace and the
-- person they were issued to, and nothing else decides what a page shows.
-- Also the indexes the page's bounded queries use.

CREATE TABLE dashboard_links (
    token_hash  TEXT    PRIMARY KEY,        -- hex SHA-256 of the link's token
    workspace   TEXT    NOT NULL,
    person      TEXT    NOT NULL,           -- the chat user who asked for it
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX dashboard_links_expiry ON dashboard_links (expires_at);

CREATE TABLE dashboard_sessions (
    token_hash  TEXT    PRIMARY KEY,        -- hex SHA-256 of the cookie's value
    workspace   TEXT    NOT NULL,
    person      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);

CREATE INDEX decisions_by_status ON decisions (workspace, status, created_at);
CREATE INDEX actions_opened ON actions (workspace, created_at);
CREATE INDEX actions_closed ON actions (workspace, done_at) WHERE done_at IS NOT NULL;
CREATE INDEX actions_by_due ON actions (workspace, due_date) WHERE status IN ('open', 'reopened');
CREATE INDEX actions_awaiting ON actions (workspace, done_at) WHERE status = 'done';
CREATE INDEX escalations_raised ON escalations (workspace, created_at);
