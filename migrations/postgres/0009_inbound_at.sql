-- Incoming request keys are pruned by age once a minute.
CREATE INDEX inbound_requests_at ON inbound_requests (at);
