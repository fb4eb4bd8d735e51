-- How each webhook's last delivery ended, for the admin: '' before any, 'ok', or the error that ended it.
ALTER TABLE webhooks ADD COLUMN last_result TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN last_at BIGINT NOT NULL DEFAULT 0;
