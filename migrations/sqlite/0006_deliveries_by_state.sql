-- The scheduler finds work by state first: due pending deliveries in due
-- order, lapsed claims, never-attempted overdue reminders, the next wake-up.
-- With (state, next_try_at) each of those is an index range that stops at
-- what it needs, however long the history of sent deliveries grows; the
-- partial index it replaces could not serve a query that names one state.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_by_state ON deliveries (state, next_try_at);
-- The unverified-item chase looks for done items by when they were done.
CREATE INDEX actions_done ON actions (done_at) WHERE status = 'done';
