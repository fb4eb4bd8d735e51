-- Tags the agents put on conversations ("refund", "delivery"), to find them again and to count them in reports.
CREATE TABLE conversation_tags (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    tag             TEXT NOT NULL,
    author_id       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, tag)
);

CREATE INDEX conversation_tags_tag ON conversation_tags (tag, created_at);
