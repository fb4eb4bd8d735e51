-- Saved replies: texts the agents insert in the reply box by a shortcut ("/delivery"), written by an admin.
CREATE TABLE saved_replies (
    id         TEXT PRIMARY KEY,
    -- Lowercase letters, digits, "-" and "_"; one reply per shortcut.
    shortcut   TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
