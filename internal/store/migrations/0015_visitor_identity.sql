-- Visitors the website identified: a site signs a signed-in customer's e-mail address with its identity secret
-- (HMAC-SHA256), and Parley shows the agents their name and address. Only identities whose signature checks are
-- kept.
ALTER TABLE sites ADD COLUMN identity_secret TEXT NOT NULL DEFAULT '';

CREATE TABLE visitor_identities (
    site_id    TEXT NOT NULL REFERENCES sites(id),
    visitor_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (site_id, visitor_id)
);
