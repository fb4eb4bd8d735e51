-- A routing group's opening hours, as JSON ({"timezone": "Europe/Paris", "days": {"mon": {"open": "09:00",
-- "close": "18:00"}, ...}}); '' means always open. Outside them, new conversations are not routed: the visitor is
-- told when the team is back and may leave a message.
ALTER TABLE routing_groups ADD COLUMN hours TEXT NOT NULL DEFAULT '';
