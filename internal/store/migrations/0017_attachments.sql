-- Files shared in a conversation's chat (a screenshot, an invoice). Each belongs to the message event that carried
-- it, whose data names it; the content is kept in the database, so every node serves it and a backup holds it.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    name            TEXT NOT NULL,
    -- The type found in the content itself, not the one the uploader claimed.
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    content         BYTEA NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE INDEX attachments_conversation ON attachments (conversation_id);
