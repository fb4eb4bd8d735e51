-- Notes the agents write on a conversation for each other (a handover, what was promised). The visitor never sees
-- them: they are not conversation events, so nothing that reads events for a visitor can reach them.
CREATE TABLE conversation_notes (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author_id       TEXT NOT NULL REFERENCES accounts(id),
    author_name     TEXT NOT NULL,
    body            TEXT NOT NULL,
    -- The desk's id for the note: sending it again (a retry after a lost ack) stores it once.
    client_note_id  TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE UNIQUE INDEX conversation_notes_client ON conversation_notes (author_id, client_note_id);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, created_at);
