package server

import (
	"strings"

	"github.com/parley/parley/internal/store"
)

// siteVideoJSON is a SITE's `video` in docs/api.md: the camera policy (the chatbox builder's video tab) and the
// video notification (the notification builder). Every language is present; an empty text is the widget's own.
type siteVideoJSON struct {
	Camera       cameraJSON       `json:"camera"`
	Notification notificationJSON `json:"notification"`
	// Limits are the longest texts, in characters, so that the admin app's form and the API agree.
	Limits map[string]int `json:"limits"`
}

type cameraJSON struct {
	Allowed      bool              `json:"allowed"`
	OffByDefault bool              `json:"off_by_default"`
	Reassurance  map[string]string `json:"reassurance"`
}

type notificationJSON struct {
	Format string                           `json:"format"`
	Texts  map[string]notificationTextsJSON `json:"texts"`
}

// notificationTextsJSON shows every text of a language, empty ones too.
type notificationTextsJSON struct {
	Title  string `json:"title"`
	Text   string `json:"text"`
	Button string `json:"button"`
}

var videoLimits = map[string]int{"title": store.MaxNotificationTitle, "text": store.MaxNotificationText,
	"button": store.MaxNotificationButton, "reassurance": store.MaxReassurance}

func viewSiteVideo(v store.SiteVideo) siteVideoJSON {
	out := siteVideoJSON{
		Camera:       cameraJSON{Allowed: v.CameraAllowed, OffByDefault: v.CameraOffByDefault, Reassurance: map[string]string{}},
		Notification: notificationJSON{Format: v.NotificationFormat, Texts: map[string]notificationTextsJSON{}},
		Limits:       videoLimits,
	}
	for _, lang := range store.VideoLanguages {
		out.Camera.Reassurance[lang] = v.Reassurance[lang]
		t := v.NotificationTexts[lang]
		out.Notification.Texts[lang] = notificationTextsJSON{Title: t.Title, Text: t.Text, Button: t.Button}
	}
	return out
}

// siteVideoInput is a SITE's `video` in a POST or PATCH: what is given replaces what is stored, field by field and
// language by language (null or "" brings back the widget's own text).
type siteVideoInput struct {
	Camera *struct {
		Allowed      *bool              `json:"allowed"`
		OffByDefault *bool              `json:"off_by_default"`
		Reassurance  map[string]*string `json:"reassurance"`
	} `json:"camera"`
	Notification *struct {
		Format *string                         `json:"format"`
		Texts  map[string]*notificationTextsIn `json:"texts"`
	} `json:"notification"`
}

type notificationTextsIn struct {
	Title  *string `json:"title"`
	Text   *string `json:"text"`
	Button *string `json:"button"`
}

// apply copies in onto v and validates the result, adding each problem to bad under its API name
// ("video.notification.texts.fr.title").
func (in *siteVideoInput) apply(v *store.SiteVideo, bad map[string]string) {
	if in == nil {
		return
	}
	if v.Reassurance == nil {
		v.Reassurance = map[string]string{}
	}
	if v.NotificationTexts == nil {
		v.NotificationTexts = map[string]store.NotificationTexts{}
	}
	if c := in.Camera; c != nil {
		if c.Allowed != nil {
			v.CameraAllowed = *c.Allowed
		}
		if c.OffByDefault != nil {
			v.CameraOffByDefault = *c.OffByDefault
		}
		for lang, text := range c.Reassurance {
			v.Reassurance[lang] = deref(text)
		}
	}
	if n := in.Notification; n != nil {
		if n.Format != nil {
			v.NotificationFormat = *n.Format
		}
		for lang, t := range n.Texts {
			cur := v.NotificationTexts[lang]
			if t == nil {
				cur = store.NotificationTexts{}
			} else {
				setIfGiven(&cur.Title, t.Title)
				setIfGiven(&cur.Text, t.Text)
				setIfGiven(&cur.Button, t.Button)
			}
			v.NotificationTexts[lang] = cur
		}
	}
	for key, msg := range v.Validate() {
		if strings.HasPrefix(key, "reassurance.") {
			key = "camera." + key
		}
		bad["video."+key] = msg
	}
}

func setIfGiven(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}
