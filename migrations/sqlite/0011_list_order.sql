-- Action lists in their reply order (most urgent first), so a page is read
-- from an index instead of sorting every item of the workspace.
CREATE INDEX actions_by_urgency ON actions (
    workspace,
    (CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END),
    (due_date IS NULL),
    due_date,
    id
);
