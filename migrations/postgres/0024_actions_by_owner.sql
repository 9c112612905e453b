-- Action items of one owner in the urgency order of `/action list` and
-- `/action mine`, so a page is read in order and stops at its end:
-- - by owner and status (`/action list owner:x status:y`), replacing the
--   (workspace, owner, status) index of 0002, whose prefix it keeps;
-- - the open ones of an owner (`/action mine`), however many done and
--   verified items they have.
DROP INDEX actions_by_owner;
CREATE INDEX actions_by_owner ON actions (
    workspace,
    owner,
    status,
    (CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END),
    (due_date IS NULL),
    due_date,
    id
);
CREATE INDEX actions_open_by_owner ON actions (
    workspace,
    owner,
    (CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END),
    (due_date IS NULL),
    due_date,
    id
) WHERE status IN ('open', 'reopened');
