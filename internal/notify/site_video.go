package notify

import (
	"context"
	"log/slog"

	"github.com/parley/parley/internal/store"
)

// ViewSiteVideo converts a site's stored video settings for the widget (docs/protocol.md, CAMERA and
// NOTIFICATION). Languages without texts are left out: the widget then shows its own.
func ViewSiteVideo(v store.SiteVideo) SiteVideo {
	out := SiteVideo{
		Camera:       CameraView{Allowed: v.CameraAllowed, OffByDefault: v.CameraOffByDefault},
		Notification: &NotificationView{Format: v.NotificationFormat},
	}
	if len(v.Reassurance) > 0 {
		out.Camera.Reassurance = map[string]string{}
		for lang, text := range v.Reassurance {
			out.Camera.Reassurance[lang] = text
		}
	}
	if len(v.NotificationTexts) > 0 {
		out.Notification.Texts = map[string]NotificationTexts{}
		for lang, t := range v.NotificationTexts {
			out.Notification.Texts[lang] = NotificationTexts{Title: t.Title, Text: t.Text, Button: t.Button}
		}
	}
	return out
}

// SiteVideoFrom returns the function that gives the call service a site's video settings (call.Deps.SiteVideo),
// read from the database each time, so a change reaches a widget at its next hello. When they can't be read, the
// camera is not allowed: a database hiccup must never turn on a camera that the site's admin turned off.
func SiteVideoFrom(st *store.Store, log *slog.Logger) func(ctx context.Context, siteID string) SiteVideo {
	return func(ctx context.Context, siteID string) SiteVideo {
		v, err := st.SiteVideo(ctx, siteID)
		if err != nil {
			log.Warn("site video settings", slog.String("site_id", siteID), slog.Any("error", err))
			return SiteVideo{Camera: CameraView{Allowed: false}}
		}
		return ViewSiteVideo(v)
	}
}
