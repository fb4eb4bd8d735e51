-- Proactive invitations: a message the widget shows beside its launcher to a visitor who has spent some time on
-- some pages of the site, when an agent could answer at once. Answering it opens a conversation that starts with
-- the invitation (an "invited" event).
CREATE TABLE invitations (
    id            TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    message       TEXT NOT NULL,
    -- Shown on the pages whose address contains this text (ignoring case); empty: on every page.
    url_contains  TEXT NOT NULL,
    delay_seconds INTEGER NOT NULL,
    enabled       BOOLEAN NOT NULL,
    -- How many times it was shown, and answered with a first message.
    shown         BIGINT NOT NULL DEFAULT 0,
    answered      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX invitations_site ON invitations (site_id);
