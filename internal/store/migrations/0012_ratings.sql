-- The visitor's rating of a conversation once it ended (1 to 5, and a comment), at most one per conversation. The
-- agent and the routing group are those of the conversation when it was rated, for the supervisors' statistics.
CREATE TABLE conversation_ratings (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    score           INTEGER NOT NULL,
    comment         TEXT NOT NULL DEFAULT '',
    agent_id        TEXT,
    group_id        TEXT,
    created_at      BIGINT NOT NULL
);

CREATE INDEX conversation_ratings_group ON conversation_ratings (group_id, created_at);
