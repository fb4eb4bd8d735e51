-- Parley's first schema. It runs unchanged on SQLite and PostgreSQL: times are BIGINT milliseconds since the Unix
-- epoch, ids are text made by the application, and flags are BOOLEAN.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    chat_capacity INTEGER NOT NULL DEFAULT 3,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE routing_groups (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id   TEXT NOT NULL REFERENCES routing_groups(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX group_members_account ON group_members(account_id);

CREATE TABLE sites (
    id              TEXT PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL UNIQUE,
    allowed_origins TEXT NOT NULL,
    language        TEXT NOT NULL,
    group_id        TEXT REFERENCES routing_groups(id) ON DELETE SET NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites(id),
    visitor_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    agent_id   TEXT REFERENCES accounts(id),
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at  BIGINT
);
-- A visitor has at most one open conversation per site.
CREATE UNIQUE INDEX conversations_one_open ON conversations(site_id, visitor_id) WHERE status = 'open';
CREATE INDEX conversations_agent ON conversations(agent_id, status);
CREATE INDEX conversations_site_status ON conversations(site_id, status);

CREATE TABLE events (
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    seq             BIGINT NOT NULL,
    type            TEXT NOT NULL,
    author          TEXT NOT NULL,
    author_id       TEXT NOT NULL,
    author_name     TEXT NOT NULL,
    body            TEXT NOT NULL,
    client_msg_id   TEXT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
-- client_msg_id is unique per sender: a message sent twice is stored once.
CREATE UNIQUE INDEX events_client_msg ON events(author_id, client_msg_id) WHERE client_msg_id IS NOT NULL;

-- One row per open desk socket, refreshed by its heartbeat: an agent is online while a fresh row exists.
CREATE TABLE desk_connections (
    conn_id    TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    node_id    TEXT NOT NULL,
    seen_at    BIGINT NOT NULL
);
CREATE INDEX desk_connections_account ON desk_connections(account_id);
