-- Conversations left open with nothing said for a long time are closed by the chat service; this index lets it find
-- them without reading every conversation.
CREATE INDEX conversations_status_updated ON conversations(status, updated_at);
