-- Decision search at a million decisions. The GIN expression index of 0002
-- cannot give the newest matches of one workspace in order: a common word
-- made PostgreSQL read every decision backwards computing the document of
-- each (200-330 ms at 1,000,000), and a word found nowhere made it read them
-- all (17 s). The document is now stored, once per decision, in a table of
-- its own (kept out of `SELECT * FROM decisions`, whose rows the Any driver
-- decodes column by column and which has no tsvector), filled by a trigger,
-- with a GIN index for rare words and (workspace, id) for the newest.
CREATE TABLE decisions_fts (
    id        BIGINT PRIMARY KEY REFERENCES decisions (id) ON DELETE CASCADE,
    workspace TEXT NOT NULL,
    doc       tsvector NOT NULL
);

CREATE FUNCTION decisions_fts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO decisions_fts (id, workspace, doc)
    VALUES (NEW.id, NEW.workspace,
            setweight(to_tsvector('english', NEW.title), 'A') ||
            setweight(to_tsvector('english', NEW.category), 'B') ||
            setweight(to_tsvector('english', NEW.rationale), 'C'))
    ON CONFLICT (id) DO UPDATE SET workspace = EXCLUDED.workspace, doc = EXCLUDED.doc;
    RETURN NULL;
END
$$;

CREATE TRIGGER decisions_fts_sync
    AFTER INSERT OR UPDATE OF workspace, title, category, rationale ON decisions
    FOR EACH ROW EXECUTE FUNCTION decisions_fts_sync();

INSERT INTO decisions_fts (id, workspace, doc)
SELECT id, workspace,
       setweight(to_tsvector('english', title), 'A') ||
       setweight(to_tsvector('english', category), 'B') ||
       setweight(to_tsvector('english', rationale), 'C')
FROM decisions;

CREATE INDEX decisions_fts_doc ON decisions_fts USING GIN (doc);
CREATE INDEX decisions_fts_newest ON decisions_fts (workspace, id);
DROP INDEX decisions_search;
ANALYZE decisions_fts;
