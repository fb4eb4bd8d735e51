-- Video calls: one row per call inside a conversation. The call's routing lives in routing_requests (channel
-- 'video'); this row keeps what routing doesn't: who answered and when, who hung up, the media states and the
-- call-quality record.
CREATE TABLE calls (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    visitor_id      TEXT NOT NULL,
    request_id      TEXT REFERENCES routing_requests(id),
    agent_id        TEXT REFERENCES accounts(id),
    -- The node whose media relay carries the call, set when the first side connects.
    node_id         TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    answered_at     BIGINT NOT NULL DEFAULT 0,
    ended_at        BIGINT NOT NULL DEFAULT 0,
    ended_by        TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    visitor_camera  BOOLEAN NOT NULL DEFAULT TRUE,
    visitor_mic     BOOLEAN NOT NULL DEFAULT TRUE,
    agent_camera    BOOLEAN NOT NULL DEFAULT TRUE,
    agent_mic       BOOLEAN NOT NULL DEFAULT TRUE,
    quality         TEXT NOT NULL DEFAULT ''
);
-- A conversation has at most one call under way.
CREATE UNIQUE INDEX calls_live ON calls(conversation_id) WHERE ended_at = 0;
CREATE INDEX calls_agent ON calls(agent_id, ended_at);

-- Structured details of an event, as JSON (the call-quality record of a call_ended event).
ALTER TABLE events ADD COLUMN data TEXT NOT NULL DEFAULT '';
