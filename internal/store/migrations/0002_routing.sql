-- The distribution engine: routing group settings, presence per channel, requests for an agent, offers, and the
-- running averages behind the estimated wait.

ALTER TABLE accounts ADD COLUMN supervisor BOOLEAN NOT NULL DEFAULT FALSE;
-- When the agent last got a conversation: "longest idle" goes first among equally busy agents.
ALTER TABLE accounts ADD COLUMN last_assigned_at BIGINT NOT NULL DEFAULT 0;

ALTER TABLE routing_groups ADD COLUMN channels TEXT NOT NULL DEFAULT 'chat,video';
ALTER TABLE routing_groups ADD COLUMN queue_places INTEGER NOT NULL DEFAULT 5;
ALTER TABLE routing_groups ADD COLUMN offer_timeout_ms BIGINT NOT NULL DEFAULT 30000;
ALTER TABLE routing_groups ADD COLUMN max_wait_ms BIGINT NOT NULL DEFAULT 900000;
ALTER TABLE routing_groups ADD COLUMN chat_mode TEXT NOT NULL DEFAULT 'assign';
ALTER TABLE routing_groups ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 3;

ALTER TABLE conversations ADD COLUMN routing TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';

ALTER TABLE desk_connections ADD COLUMN closed BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE presence (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    status     TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, channel)
);

-- One request for an agent, for one conversation on one channel.
CREATE TABLE routing_requests (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    channel         TEXT NOT NULL,
    group_id        TEXT NOT NULL REFERENCES routing_groups(id),
    priority        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    enqueued_at     BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    assigned_at     BIGINT,
    ended_at        BIGINT,
    agent_id        TEXT REFERENCES accounts(id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    broadcast       BOOLEAN NOT NULL DEFAULT FALSE,
    visitor_seen_at BIGINT NOT NULL,
    eta_bucket      TEXT NOT NULL DEFAULT ''
);
-- A conversation waits at most once per channel at a time.
CREATE UNIQUE INDEX routing_requests_live ON routing_requests(conversation_id, channel) WHERE state IN ('queued', 'offered', 'assigned');
CREATE INDEX routing_requests_queue ON routing_requests(group_id, channel, state, priority, enqueued_at);
CREATE INDEX routing_requests_agent ON routing_requests(agent_id, state);

-- Agents who declined or missed a request are not offered it again.
CREATE TABLE routing_exclusions (
    request_id TEXT NOT NULL REFERENCES routing_requests(id) ON DELETE CASCADE,
    agent_id   TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (request_id, agent_id)
);

CREATE TABLE offers (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL REFERENCES routing_requests(id),
    agent_id        TEXT NOT NULL REFERENCES accounts(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    channel         TEXT NOT NULL,
    state           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    deadline        BIGINT NOT NULL,
    ended_at        BIGINT
);
CREATE INDEX offers_pending ON offers(state, deadline);
CREATE INDEX offers_agent ON offers(agent_id, state);
CREATE INDEX offers_request ON offers(request_id, state);

-- Exponentially weighted averages of handling time and time to accept, per group and channel.
CREATE TABLE routing_stats (
    group_id    TEXT NOT NULL REFERENCES routing_groups(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    aht_ms      DOUBLE PRECISION NOT NULL DEFAULT 0,
    aht_samples INTEGER NOT NULL DEFAULT 0,
    acc_ms      DOUBLE PRECISION NOT NULL DEFAULT 0,
    acc_samples INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, channel)
);
