-- A meeting reminder lists the open items tied to its series or owned by its
-- attendees; this index serves the first half of that OR (issue 12: reads
-- whose cost does not grow with the history).
CREATE INDEX actions_open_by_meeting ON actions (meeting_id) WHERE status IN ('open', 'reopened');
