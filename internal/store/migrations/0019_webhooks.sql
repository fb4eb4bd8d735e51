-- Webhooks to the company's own systems (a CRM, a help desk, a chat room): the conversation events of one site, or
-- of every site, posted to a URL and signed with the webhook's secret. Bots' webhooks are the bots' own.
CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    -- '' for every site.
    site_id    TEXT NOT NULL,
    -- The event types sent, comma-separated (message,assigned,ended...).
    events     TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
