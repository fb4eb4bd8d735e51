-- Bots that answer a site's visitors first: the built-in scenario bot and external bots behind the HTTP bot API.

CREATE TABLE bots (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    -- scenario: Parley runs the steps below; http: an external bot gets webhooks and answers through the bot API.
    kind           TEXT NOT NULL,
    -- The scenario as JSON (internal/bot.Scenario); '' for an HTTP bot.
    scenario       TEXT NOT NULL DEFAULT '',
    -- An HTTP bot's webhook: where visitors' messages are posted, and the key their HMAC signature uses. The secret
    -- is kept as is, since Parley signs with it.
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT '',
    -- The SHA-256 of an HTTP bot's API token (hex); the token itself is shown once, when it is made.
    token_hash     TEXT UNIQUE,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- The bot that answers a site's visitors before its agents do; NULL: the agents answer at once.
ALTER TABLE sites ADD COLUMN bot_id TEXT REFERENCES bots(id) ON DELETE SET NULL;

-- A conversation a bot answered: whether the bot is still in charge (then the conversation is not routed to the
-- agents), the scenario's current step, and the visitor's language for the bot's texts.
CREATE TABLE conversation_bots (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
    bot_id          TEXT NOT NULL REFERENCES bots(id) ON DELETE CASCADE,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    step            TEXT NOT NULL DEFAULT '',
    language        TEXT NOT NULL DEFAULT '',
    started_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    -- When the bot handed over (or stopped); 0 while it is in charge.
    ended_at        BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX conversation_bots_bot ON conversation_bots(bot_id, active);
