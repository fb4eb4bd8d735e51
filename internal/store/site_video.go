package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SiteVideo is a site's video settings, set in the admin's chatbox builder (the camera policy) and notification
// builder (the video notification and the reassurance message). The widget gets them in the `video` frame
// (docs/protocol.md, CAMERA and NOTIFICATION).
type SiteVideo struct {
	// CameraAllowed false means the visitor's camera is never used: the visitor is heard and sees the agent.
	CameraAllowed bool
	// CameraOffByDefault starts the visitor's calls with the camera off; the visitor may turn it on.
	CameraOffByDefault bool
	// NotificationFormat is NotificationButton or NotificationCard.
	NotificationFormat string
	// NotificationTexts are the notification's texts by language ("en", "fr"). An empty text is the widget's own.
	NotificationTexts map[string]NotificationTexts
	// Reassurance is the message shown with the notification when the camera is restricted, by language. Empty is
	// the widget's own.
	Reassurance map[string]string
}

// NotificationTexts are a video notification's texts in one language.
type NotificationTexts struct {
	Title  string `json:"title,omitempty"`
	Text   string `json:"text,omitempty"`
	Button string `json:"button,omitempty"`
}

// Video notification formats.
const (
	NotificationButton = "button" // a compact button
	NotificationCard   = "card"   // a title, a text and a button
)

// VideoLanguages are the languages a site's video texts may be written in: the widget's.
var VideoLanguages = []string{"en", "fr"}

// The longest texts, in characters. The notification sits above the chat input of a 380-pixel-wide chatbox: longer
// texts would push the conversation out of sight.
const (
	MaxNotificationTitle  = 80
	MaxNotificationText   = 300
	MaxNotificationButton = 40
	MaxReassurance        = 300
)

// ErrBadSiteVideo means video settings that break the rules of SiteVideo.Validate.
var ErrBadSiteVideo = errors.New("store: invalid video settings")

// DefaultSiteVideo returns a new site's video settings: the camera allowed and on, the compact button, and the
// widget's own texts.
func DefaultSiteVideo() SiteVideo {
	return SiteVideo{CameraAllowed: true, NotificationFormat: NotificationButton,
		NotificationTexts: map[string]NotificationTexts{}, Reassurance: map[string]string{}}
}

var languageNames = map[string]string{"en": "English", "fr": "French"}

// Validate trims the texts, drops the empty ones, and returns every problem by field ("notification.format",
// "notification.texts.fr.title", "reassurance.en"), in plain words; nil when there is none.
func (v *SiteVideo) Validate() map[string]string {
	bad := map[string]string{}
	if v.NotificationFormat != NotificationButton && v.NotificationFormat != NotificationCard {
		bad["notification.format"] = "button (a compact button) or card (a title, a text and a button)"
	}
	texts := map[string]NotificationTexts{}
	for lang, tx := range v.NotificationTexts {
		key := "notification.texts." + lang
		name, ok := languageNames[lang]
		if !ok {
			bad[key] = "texts are in English (en) or French (fr) only"
			continue
		}
		tx.Title = checkText(bad, key+".title", "The "+name+" title", tx.Title, MaxNotificationTitle, false)
		tx.Text = checkText(bad, key+".text", "The "+name+" text", tx.Text, MaxNotificationText, true)
		tx.Button = checkText(bad, key+".button", "The "+name+" button label", tx.Button, MaxNotificationButton, false)
		if tx != (NotificationTexts{}) {
			texts[lang] = tx
		}
	}
	v.NotificationTexts = texts
	reassurance := map[string]string{}
	for lang, text := range v.Reassurance {
		key := "reassurance." + lang
		name, ok := languageNames[lang]
		if !ok {
			bad[key] = "the message is in English (en) or French (fr) only"
			continue
		}
		if text = checkText(bad, key, "The "+name+" reassurance message", text, MaxReassurance, true); text != "" {
			reassurance[lang] = text
		}
	}
	v.Reassurance = reassurance
	if len(bad) == 0 {
		return nil
	}
	return bad
}

// checkText trims text and records what is wrong with it under key: more than max characters, or control
// characters (line breaks are allowed only where multiline is).
func checkText(bad map[string]string, key, what, text string, max int, multiline bool) string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if n := utf8.RuneCountInString(text); n > max {
		bad[key] = fmt.Sprintf("%s is too long: at most %d characters, it has %d.", what, max, n)
		return text
	}
	if !utf8.ValidString(text) || strings.IndexFunc(text, func(r rune) bool {
		return unicode.IsControl(r) && (r != '\n' || !multiline)
	}) >= 0 {
		if multiline {
			bad[key] = what + " can't contain control characters."
		} else {
			bad[key] = what + " must fit on one line."
		}
	}
	return text
}

const siteVideoCols = "camera_allowed, camera_off_by_default, video_notification_format, video_notification_texts, camera_reassurance"

func scanSiteVideo(sc interface{ Scan(...any) error }, extra ...any) (SiteVideo, error) {
	v := DefaultSiteVideo()
	var texts, reassurance string
	if err := sc.Scan(append(extra, &v.CameraAllowed, &v.CameraOffByDefault, &v.NotificationFormat, &texts, &reassurance)...); err != nil {
		return SiteVideo{}, notFound(err)
	}
	if err := json.Unmarshal([]byte(texts), &v.NotificationTexts); err != nil {
		return SiteVideo{}, fmt.Errorf("store: video notification texts: %w", err)
	}
	if err := json.Unmarshal([]byte(reassurance), &v.Reassurance); err != nil {
		return SiteVideo{}, fmt.Errorf("store: camera reassurance: %w", err)
	}
	return v, nil
}

// SiteVideo returns a site's video settings; siteID is the site's internal id.
func (s *Store) SiteVideo(ctx context.Context, siteID string) (SiteVideo, error) {
	return scanSiteVideo(s.q().row(ctx, "SELECT "+siteVideoCols+" FROM sites WHERE id = ?", siteID))
}

// SiteVideos returns every site's video settings, by site id.
func (s *Store) SiteVideos(ctx context.Context) (map[string]SiteVideo, error) {
	rows, err := s.q().query(ctx, "SELECT id, "+siteVideoCols+" FROM sites")
	if err != nil {
		return nil, fmt.Errorf("store: site videos: %w", err)
	}
	defer rows.Close()
	out := map[string]SiteVideo{}
	for rows.Next() {
		var id string
		v, err := scanSiteVideo(rows, &id)
		if err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, rows.Err()
}

// SetSiteVideo saves a site's video settings, after Validate: settings it refuses are ErrBadSiteVideo, with the
// problems in the error's text. It returns the settings as saved.
func (s *Store) SetSiteVideo(ctx context.Context, siteID string, v SiteVideo) (SiteVideo, error) {
	if bad := v.Validate(); bad != nil {
		keys := make([]string, 0, len(bad))
		for k := range bad {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return SiteVideo{}, fmt.Errorf("%w: %s", ErrBadSiteVideo, strings.Join(keys, ", "))
	}
	texts, _ := json.Marshal(v.NotificationTexts)
	reassurance, _ := json.Marshal(v.Reassurance)
	res, err := s.q().exec(ctx, `UPDATE sites SET camera_allowed = ?, camera_off_by_default = ?, video_notification_format = ?,
		video_notification_texts = ?, camera_reassurance = ?, updated_at = ? WHERE id = ?`,
		v.CameraAllowed, v.CameraOffByDefault, v.NotificationFormat, string(texts), string(reassurance), ms(time.Now()), siteID)
	if err != nil {
		return SiteVideo{}, fmt.Errorf("store: set site video: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return SiteVideo{}, ErrNotFound
	}
	return v, nil
}
