-- Decision search with a cost that does not grow with the log (issue 12).
-- The index gains the workspace, so a search reads only its own workspace's
-- matches, and prefix indexes of 1 to 4 characters, so a short prefix such as
-- `x*` is one term to read rather than a merge of every term it starts. The
-- search reads the newest matches in rowid order and stops (see
-- Store::search_decisions_page).
DROP TRIGGER decisions_fts_insert;
DROP TRIGGER decisions_fts_update;
DROP TABLE decisions_fts;
CREATE VIRTUAL TABLE decisions_fts USING fts5 (
    title, rationale, category, workspace,
    content = 'decisions', content_rowid = 'id', tokenize = 'porter unicode61', prefix = '1 2 3 4'
);
INSERT INTO decisions_fts (decisions_fts) VALUES ('rebuild');
CREATE TRIGGER decisions_fts_insert AFTER INSERT ON decisions BEGIN
    INSERT INTO decisions_fts (rowid, title, rationale, category, workspace)
    VALUES (new.id, new.title, new.rationale, new.category, new.workspace);
END;
CREATE TRIGGER decisions_fts_update AFTER UPDATE OF title, rationale, category, workspace ON decisions BEGIN
    INSERT INTO decisions_fts (decisions_fts, rowid, title, rationale, category, workspace)
    VALUES ('delete', old.id, old.title, old.rationale, old.category, old.workspace);
    INSERT INTO decisions_fts (rowid, title, rationale, category, workspace)
    VALUES (new.id, new.title, new.rationale, new.category, new.workspace);
END;
