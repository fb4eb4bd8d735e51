package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

type videoTexts struct {
	Title  string `json:"title"`
	Text   string `json:"text"`
	Button string `json:"button"`
}

// siteVideo is a SITE's `video` (docs/api.md).
type siteVideo struct {
	Camera struct {
		Allowed      bool              `json:"allowed"`
		OffByDefault bool              `json:"off_by_default"`
		Reassurance  map[string]string `json:"reassurance"`
	} `json:"camera"`
	Notification struct {
		Format string                `json:"format"`
		Texts  map[string]videoTexts `json:"texts"`
	} `json:"notification"`
	Limits map[string]int `json:"limits"`
}

type siteWithVideo struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	Video siteVideo `json:"video"`
}

// demoSite reads the demo site through the admin API.
func demoSite(t *testing.T, env *apptest.Env, admin *apptest.HTTP) siteWithVideo {
	t.Helper()
	var sites struct {
		Sites []siteWithVideo `json:"sites"`
	}
	if st := admin.Do("GET", "/api/admin/sites", nil, &sites); st != 200 {
		t.Fatalf("list sites: %d", st)
	}
	for _, s := range sites.Sites {
		if s.ID == env.Site.ID {
			return s
		}
	}
	t.Fatalf("no demo site in %+v", sites)
	return siteWithVideo{}
}

// visitorVideo is the `video` frame a new visitor of the demo site gets after hello (docs/protocol.md).
func visitorVideo(t *testing.T, env *apptest.Env) (v struct {
	Camera struct {
		Allowed      bool              `json:"allowed"`
		OffByDefault bool              `json:"off_by_default"`
		Reassurance  map[string]string `json:"reassurance"`
	} `json:"camera"`
	Notification *struct {
		Format string                `json:"format"`
		Texts  map[string]videoTexts `json:"texts"`
	} `json:"notification"`
}) {
	t.Helper()
	sock, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	delete(sock.Skip, "video")
	sock.Hello(map[string]any{"token": env.VisitorToken(t)})
	sock.Expect("video", "").Decode(t, &v)
	sock.WS.CloseNow()
	return v
}

func TestSiteVideoSettings(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)

	site := demoSite(t, env, admin)
	v := site.Video
	if !v.Camera.Allowed || v.Camera.OffByDefault || v.Notification.Format != "button" ||
		v.Camera.Reassurance["en"] != "" || v.Camera.Reassurance["fr"] != "" || v.Notification.Texts["fr"] != (videoTexts{}) ||
		len(v.Notification.Texts) != 2 || v.Limits["title"] != 80 || v.Limits["reassurance"] != 300 {
		t.Fatalf("default video settings: %+v", v)
	}
	if w := visitorVideo(t, env); !w.Camera.Allowed || w.Camera.OffByDefault || w.Notification == nil || w.Notification.Format != "button" ||
		len(w.Notification.Texts) != 0 || len(w.Camera.Reassurance) != 0 {
		t.Fatalf("a visitor's video frame with the defaults: %+v", w)
	}

	// The chatbox builder's video tab, then the notification builder: each PATCH changes only what it gives.
	var saved siteWithVideo
	path := "/api/admin/sites/" + site.ID
	if st := admin.Do("PATCH", path, map[string]any{"video": map[string]any{"camera": map[string]any{"allowed": false, "off_by_default": true}}}, &saved); st != 200 {
		t.Fatalf("camera policy: %d", st)
	}
	if saved.Video.Camera.Allowed || !saved.Video.Camera.OffByDefault || saved.Name != site.Name {
		t.Fatalf("after the camera policy: %+v", saved)
	}
	notification := map[string]any{
		"camera": map[string]any{"reassurance": map[string]any{"fr": "  Votre caméra reste éteinte. "}},
		"notification": map[string]any{"format": "card", "texts": map[string]any{
			"en": map[string]any{"title": "See an expert", "text": "<b>Live</b> advice by video", "button": "Start"},
			"fr": map[string]any{"button": "Démarrer"},
		}},
	}
	if st := admin.Do("PATCH", path, map[string]any{"video": notification}, &saved); st != 200 {
		t.Fatalf("notification: %d", st)
	}
	v = demoSite(t, env, admin).Video
	if v.Camera.Allowed || !v.Camera.OffByDefault || v.Camera.Reassurance["fr"] != "Votre caméra reste éteinte." || v.Camera.Reassurance["en"] != "" ||
		v.Notification.Format != "card" || v.Notification.Texts["en"] != (videoTexts{"See an expert", "<b>Live</b> advice by video", "Start"}) ||
		v.Notification.Texts["fr"] != (videoTexts{Button: "Démarrer"}) {
		t.Fatalf("after both builders: %+v", v)
	}
	// One text of one language changes alone.
	if st := admin.Do("PATCH", path, map[string]any{"video": map[string]any{"notification": map[string]any{
		"texts": map[string]any{"en": map[string]any{"title": ""}}}}}, &saved); st != 200 {
		t.Fatalf("clearing a title: %d", st)
	}
	if got := saved.Video.Notification.Texts["en"]; got != (videoTexts{Text: "<b>Live</b> advice by video", Button: "Start"}) {
		t.Fatalf("after clearing the English title: %+v", got)
	}

	// A visitor who opens the widget now (a page load) gets the new settings.
	w := visitorVideo(t, env)
	if w.Camera.Allowed || !w.Camera.OffByDefault || w.Camera.Reassurance["fr"] != "Votre caméra reste éteinte." || w.Notification == nil ||
		w.Notification.Format != "card" || w.Notification.Texts["en"].Button != "Start" || w.Notification.Texts["fr"].Button != "Démarrer" {
		t.Fatalf("a visitor's video frame after the change: %+v", w)
	}
	if _, ok := w.Camera.Reassurance["en"]; ok {
		t.Fatalf("an empty reassurance is sent (the widget's own text should show): %+v", w.Camera.Reassurance)
	}
}

func TestSiteVideoValidation(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	site := demoSite(t, env, admin)
	path := "/api/admin/sites/" + site.ID

	texts := func(lang string, t map[string]any) map[string]any {
		return map[string]any{"notification": map[string]any{"texts": map[string]any{lang: t}}}
	}
	cases := []struct {
		name  string
		video map[string]any
		field string // the field named in the answer
		word  string // a word of its message
	}{
		{"title too long", texts("fr", map[string]any{"title": strings.Repeat("é", 81)}), "video.notification.texts.fr.title", "French title is too long"},
		{"text too long", texts("en", map[string]any{"text": strings.Repeat("a", 301)}), "video.notification.texts.en.text", "at most 300"},
		{"button too long", texts("en", map[string]any{"button": strings.Repeat("a", 41)}), "video.notification.texts.en.button", "button label"},
		{"reassurance too long", map[string]any{"camera": map[string]any{"reassurance": map[string]any{"en": strings.Repeat("a", 301)}}},
			"video.camera.reassurance.en", "English reassurance message is too long"},
		{"unknown format", map[string]any{"notification": map[string]any{"format": "popup"}}, "video.notification.format", "card"},
		{"unknown language", texts("de", map[string]any{"title": "Hallo"}), "video.notification.texts.de", "French"},
		{"a title on two lines", texts("en", map[string]any{"title": "one\ntwo"}), "video.notification.texts.en.title", "one line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var e apiErr
			// The name in the same body is not saved either: a refused save changes nothing.
			st := admin.Do("PATCH", path, map[string]any{"name": "Renamed", "video": c.video}, &e)
			if st != 400 || e.Error.Code != "invalid_input" || !strings.Contains(e.Error.Fields[c.field], c.word) {
				t.Fatalf("got %d %+v, want 400 invalid_input with %s mentioning %q", st, e, c.field, c.word)
			}
			if len(e.Error.Fields) != 1 {
				t.Fatalf("other fields blamed: %+v", e.Error.Fields)
			}
			if got := demoSite(t, env, admin); got.Name != site.Name || got.Video.Notification.Format != "button" ||
				got.Video.Notification.Texts["fr"].Title != "" {
				t.Fatalf("a refused save changed the site: %+v", got)
			}
		})
	}
	t.Run("wrong types", func(t *testing.T) {
		for _, video := range []any{
			map[string]any{"camera": map[string]any{"allowed": "no"}},
			map[string]any{"camera": map[string]any{"mirror": true}},
			map[string]any{"notification": map[string]any{"texts": map[string]any{"en": map[string]any{"subtitle": "x"}}}},
		} {
			var e apiErr
			if st := admin.Do("PATCH", path, map[string]any{"video": video}, &e); st != 400 || e.Error.Code != "bad_request" {
				t.Errorf("%v: got %d %+v, want 400 bad_request", video, st, e)
			}
		}
	})
	t.Run("a new site with its video settings", func(t *testing.T) {
		var created siteWithVideo
		st := admin.Do("POST", "/api/admin/sites", map[string]any{"name": "Video Shop", "video": map[string]any{
			"camera": map[string]any{"allowed": false}}}, &created)
		if st != 201 || created.Video.Camera.Allowed || created.Video.Notification.Format != "button" {
			t.Fatalf("create: %d %+v", st, created)
		}
		var e apiErr
		st = admin.Do("POST", "/api/admin/sites", map[string]any{"name": "Too Long", "video": texts("en", map[string]any{"title": strings.Repeat("a", 81)})}, &e)
		if st != 400 || e.Error.Fields["video.notification.texts.en.title"] == "" {
			t.Fatalf("create with a title too long: %d %+v", st, e)
		}
	})
	t.Run("agents may not", func(t *testing.T) {
		ana := env.NewHTTP(t)
		ana.Login(demo.AnaEmail, demo.Password)
		if st := ana.Do("PATCH", path, map[string]any{"video": map[string]any{"camera": map[string]any{"allowed": false}}}, nil); st != 403 {
			t.Fatalf("an agent changes the camera policy: %d", st)
		}
	})
}

func TestAgentEscalationPermission(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	escalation := func(email string) bool {
		t.Helper()
		var agents struct {
			Agents []struct {
				Email      string `json:"email"`
				Escalation *bool  `json:"escalation"`
			} `json:"agents"`
		}
		admin.Do("GET", "/api/admin/agents", nil, &agents)
		for _, a := range agents.Agents {
			if a.Email == email {
				if a.Escalation == nil {
					t.Fatalf("%s has no escalation field", email)
				}
				return *a.Escalation
			}
		}
		t.Fatalf("no agent %s", email)
		return false
	}
	if !escalation(demo.AnaEmail) || escalation(demo.BenEmail) {
		t.Fatal("in the demo, Ana may escalate and Ben may not")
	}

	ben := agentID(t, admin, demo.BenEmail)
	var updated struct {
		Escalation bool `json:"escalation"`
		Supervisor bool `json:"supervisor"`
	}
	if st := admin.Do("PATCH", "/api/admin/agents/"+ben, map[string]any{"escalation": true}, &updated); st != 200 || !updated.Escalation || updated.Supervisor {
		t.Fatalf("give Ben the permission: %d %+v", st, updated)
	}
	if !escalation(demo.BenEmail) {
		t.Fatal("Ben's permission is not saved")
	}
	// Ben's own desk learns it from his account.
	benHTTP := env.NewHTTP(t)
	benHTTP.Login(demo.BenEmail, demo.Password)
	var me struct {
		Account struct {
			Escalation bool `json:"escalation"`
		} `json:"account"`
	}
	if st := benHTTP.Do("GET", "/api/auth/me", nil, &me); st != 200 || !me.Account.Escalation {
		t.Fatalf("Ben's account: %d %+v", st, me)
	}
	// Other changes keep it.
	if st := admin.Do("PATCH", "/api/admin/agents/"+ben, map[string]any{"chat_capacity": 4}, &updated); st != 200 || !updated.Escalation {
		t.Fatalf("a capacity change: %d %+v", st, updated)
	}
	if st := admin.Do("PATCH", "/api/admin/agents/"+ben, map[string]any{"escalation": false}, &updated); st != 200 || updated.Escalation {
		t.Fatalf("take it back: %d %+v", st, updated)
	}

	var e apiErr
	if st := admin.Do("PATCH", "/api/admin/agents/"+ben, map[string]any{"escalation": "yes"}, &e); st != 400 || e.Error.Code != "bad_request" {
		t.Fatalf("escalation that is not a boolean: %d %+v", st, e)
	}
	if st := benHTTP.Do("PATCH", "/api/admin/agents/"+ben, map[string]any{"escalation": true}, nil); st != 403 {
		t.Fatalf("an agent gives himself the permission: %d", st)
	}
	if escalation(demo.BenEmail) {
		t.Fatal("a refused request changed the permission")
	}

	var groups struct {
		Groups []struct{ ID string } `json:"groups"`
	}
	admin.Do("GET", "/api/admin/groups", nil, &groups)
	var created struct {
		Escalation bool `json:"escalation"`
	}
	st := admin.Do("POST", "/api/admin/agents", map[string]any{"email": "dana@demo.parley.test", "name": "Dana", "password": "long-enough",
		"group_ids": []string{groups.Groups[0].ID}, "escalation": true}, &created)
	if st != 201 || !created.Escalation || !escalation("dana@demo.parley.test") {
		t.Fatalf("create an agent who may escalate: %d %+v", st, created)
	}
}

// Every setting of the distribution engine goes through the routing-group API, and each wrong value is named.
func TestRoutingGroupSettings(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	ana := agentID(t, admin, demo.AnaEmail)
	type group struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		MemberIDs   []string `json:"member_ids"`
		Channels    []string `json:"channels"`
		QueuePlaces int      `json:"queue_places"`
		Timeout     int      `json:"offer_timeout_seconds"`
		MaxWait     int      `json:"max_wait_seconds"`
		ChatMode    string   `json:"chat_mode"`
		MaxAttempts int      `json:"max_attempts"`
		Selection   string   `json:"selection"`
	}
	body := map[string]any{"name": "Video experts", "member_ids": []string{ana}, "channels": []string{"video"}, "queue_places": 0,
		"offer_timeout_seconds": 20, "max_wait_seconds": 600, "chat_mode": "offer", "max_attempts": 2, "selection": "least_busy"}
	var created group
	if st := admin.Do("POST", "/api/admin/groups", body, &created); st != 201 {
		t.Fatalf("create: %d", st)
	}
	want := group{ID: created.ID, Name: "Video experts", MemberIDs: []string{ana}, Channels: []string{"video"}, QueuePlaces: 0, Timeout: 20,
		MaxWait: 600, ChatMode: "offer", MaxAttempts: 2, Selection: "least_busy"}
	var groups struct {
		Groups []group `json:"groups"`
	}
	admin.Do("GET", "/api/admin/groups", nil, &groups)
	var got group
	for _, g := range groups.Groups {
		if g.ID == created.ID {
			got = g
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored group %+v, want %+v", got, want)
	}

	cases := map[string]any{
		"name":                  "",
		"member_ids":            []string{"ag_nobody"},
		"channels":              []string{},
		"queue_places":          1001,
		"offer_timeout_seconds": 4,
		"max_wait_seconds":      29,
		"chat_mode":             "broadcast",
		"max_attempts":          21,
		"selection":             "random",
	}
	for field, value := range cases {
		t.Run(field, func(t *testing.T) {
			var e apiErr
			st := admin.Do("PATCH", "/api/admin/groups/"+created.ID, map[string]any{field: value}, &e)
			if st != 400 || e.Error.Code != "invalid_input" || e.Error.Fields[field] == "" || len(e.Error.Fields) != 1 {
				t.Fatalf("%s = %v: got %d %+v, want 400 naming %s only", field, value, st, e, field)
			}
		})
	}
	t.Run("an unknown channel", func(t *testing.T) {
		var e apiErr
		if st := admin.Do("PATCH", "/api/admin/groups/"+created.ID, map[string]any{"channels": []string{"phone"}}, &e); st != 400 || e.Error.Fields["channels"] == "" {
			t.Fatalf("got %d %+v", st, e)
		}
	})
}
