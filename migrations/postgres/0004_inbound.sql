-- Requests already acted on, so a platform's retry never acts twice.
CREATE TABLE inbound_requests (
    key TEXT PRIMARY KEY,
    at  BIGINT NOT NULL
);
