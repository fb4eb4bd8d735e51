-- The engine's tick looks for queued requests across every group (to expire them, drop visitors who left, and
-- find the queues to serve). Without this index each tick read every request ever made.
CREATE INDEX routing_requests_state ON routing_requests(state, group_id, channel);
