-- How fast each queue advances: the running average of the time between two departures from a busy queue (an
-- assignment, an abandonment or an expiry while others still wait), and the time of the last one.
ALTER TABLE routing_stats ADD COLUMN adv_ms DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE routing_stats ADD COLUMN adv_samples INTEGER NOT NULL DEFAULT 0;
ALTER TABLE routing_stats ADD COLUMN adv_last_at BIGINT NOT NULL DEFAULT 0;
