-- Each site's video settings, set in the admin's chatbox and notification builders: the camera policy for its
-- visitors, and how its video notification looks. Texts are JSON objects by language ({"en": ..., "fr": ...}); an
-- empty text means the widget's built-in one.
ALTER TABLE sites ADD COLUMN camera_allowed BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE sites ADD COLUMN camera_off_by_default BOOLEAN NOT NULL DEFAULT FALSE;
-- button: a compact button; card: a title, a text and a button.
ALTER TABLE sites ADD COLUMN video_notification_format TEXT NOT NULL DEFAULT 'button';
-- {"en": {"title", "text", "button"}, "fr": {...}}
ALTER TABLE sites ADD COLUMN video_notification_texts TEXT NOT NULL DEFAULT '{}';
-- {"en": "...", "fr": "..."}: shown with the notification when the camera policy restricts the camera.
ALTER TABLE sites ADD COLUMN camera_reassurance TEXT NOT NULL DEFAULT '{}';
