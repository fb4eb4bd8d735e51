package store

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSiteVideo(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)

		// A new site (and one from before the migration) has the defaults.
		got, err := s.SiteVideo(ctx, f.site.ID)
		if err != nil || !reflect.DeepEqual(got, DefaultSiteVideo()) {
			t.Fatalf("a new site's video settings: %+v %v, want %+v", got, err, DefaultSiteVideo())
		}

		want := SiteVideo{
			CameraAllowed:      false,
			CameraOffByDefault: true,
			NotificationFormat: NotificationCard,
			NotificationTexts: map[string]NotificationTexts{
				"en": {Title: "See our experts", Text: "Line one\nline two", Button: "Call us"},
				"fr": {Button: "Appelez-nous"},
			},
			Reassurance: map[string]string{"fr": "Pas de caméra : vous ne serez pas vu·e."},
		}
		in := want
		in.NotificationTexts = map[string]NotificationTexts{
			"en": {Title: "  See our experts ", Text: "Line one\r\nline two", Button: "Call us"},
			"fr": {Button: "Appelez-nous"},
		}
		in.Reassurance = map[string]string{"en": "   ", "fr": "Pas de caméra : vous ne serez pas vu·e."}
		saved, err := s.SetSiteVideo(ctx, f.site.ID, in)
		if err != nil || !reflect.DeepEqual(saved, want) {
			t.Fatalf("saved %+v %v, want %+v (trimmed, empty texts dropped)", saved, err, want)
		}
		if got, err = s.SiteVideo(ctx, f.site.ID); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("read back %+v %v, want %+v", got, err, want)
		}
		all, err := s.SiteVideos(ctx)
		if err != nil || !reflect.DeepEqual(all[f.site.ID], want) || !reflect.DeepEqual(all[f.otherSite.ID], DefaultSiteVideo()) {
			t.Fatalf("every site's settings: %+v %v", all, err)
		}
		// Saving the site's other settings keeps its video settings.
		site, _ := s.Site(ctx, f.site.ID)
		site.Name = "Shop 2"
		if _, err := s.UpdateSite(ctx, site); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.SiteVideo(ctx, f.site.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("after a site update: %+v", got)
		}

		if _, err := s.SiteVideo(ctx, "st_nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown site: %v", err)
		}
		if _, err := s.SetSiteVideo(ctx, "st_nope", DefaultSiteVideo()); !errors.Is(err, ErrNotFound) {
			t.Fatalf("setting an unknown site: %v", err)
		}
		bad := DefaultSiteVideo()
		bad.NotificationTexts = map[string]NotificationTexts{"fr": {Title: strings.Repeat("é", MaxNotificationTitle+1)}}
		if _, err := s.SetSiteVideo(ctx, f.site.ID, bad); !errors.Is(err, ErrBadSiteVideo) {
			t.Fatalf("a title too long: %v", err)
		}
		if got, _ = s.SiteVideo(ctx, f.site.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("a refused save changed the settings: %+v", got)
		}
	})
}

func TestSiteVideoValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name string
		edit func(v *SiteVideo)
		want map[string]string // field -> a word its message must contain
	}{
		{"defaults", func(v *SiteVideo) {}, nil},
		{"texts at their limits", func(v *SiteVideo) {
			v.NotificationTexts = map[string]NotificationTexts{"fr": {Title: long(MaxNotificationTitle), Text: long(MaxNotificationText),
				Button: long(MaxNotificationButton)}}
			v.Reassurance = map[string]string{"en": long(MaxReassurance)}
		}, nil},
		{"unknown format", func(v *SiteVideo) { v.NotificationFormat = "banner" }, map[string]string{"notification.format": "card"}},
		{"texts too long", func(v *SiteVideo) {
			v.NotificationTexts = map[string]NotificationTexts{
				"en": {Title: long(MaxNotificationTitle + 1), Button: long(MaxNotificationButton + 1)},
				"fr": {Text: long(MaxNotificationText + 1)},
			}
			v.Reassurance = map[string]string{"fr": long(MaxReassurance + 1)}
		}, map[string]string{
			"notification.texts.en.title":  "English title is too long",
			"notification.texts.en.button": "English button label is too long",
			"notification.texts.fr.text":   "French text is too long",
			"reassurance.fr":               "French reassurance message is too long",
		}},
		{"unknown language", func(v *SiteVideo) {
			v.NotificationTexts = map[string]NotificationTexts{"de": {Title: "Hallo"}}
			v.Reassurance = map[string]string{"es": "Hola"}
		}, map[string]string{"notification.texts.de": "French", "reassurance.es": "French"}},
		{"a title on two lines", func(v *SiteVideo) {
			v.NotificationTexts = map[string]NotificationTexts{"en": {Title: "one\ntwo", Text: "one\ntwo"}}
		}, map[string]string{"notification.texts.en.title": "one line"}},
		{"a control character", func(v *SiteVideo) { v.Reassurance = map[string]string{"en": "bell\a"} },
			map[string]string{"reassurance.en": "control characters"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := DefaultSiteVideo()
			c.edit(&v)
			bad := v.Validate()
			if len(bad) != len(c.want) {
				t.Fatalf("problems %v, want fields %v", bad, c.want)
			}
			for field, word := range c.want {
				if !strings.Contains(bad[field], word) {
					t.Errorf("%s: %q lacks %q", field, bad[field], word)
				}
			}
		})
	}
}
