package server_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

type invitationAnswer struct {
	ID           string `json:"id"`
	SiteID       string `json:"site_id"`
	Message      string `json:"message"`
	URLContains  string `json:"url_contains"`
	DelaySeconds int    `json:"delay_seconds"`
	Enabled      bool   `json:"enabled"`
	Shown        int64  `json:"shown"`
	Answered     int64  `json:"answered"`
	Error        struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"error"`
}

// The admin writes a site's proactive invitations; the widget's config lists those that are on, and the widget
// may show one only while an agent could answer: the showing is counted.
func TestProactiveInvitationsAPI(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.Admin(t)
	// The demo's own invitation first: the admin sees it, and deletes it.
	var seeded struct {
		Invitations []invitationAnswer `json:"invitations"`
	}
	if st := admin.Do("GET", "/api/admin/invitations", nil, &seeded); st != 200 || len(seeded.Invitations) != 1 ||
		seeded.Invitations[0].Message != demo.Invitation || seeded.Invitations[0].DelaySeconds != 20 {
		t.Fatalf("the demo's invitation: %d %+v", st, seeded)
	}
	if st := admin.Do("DELETE", "/api/admin/invitations/"+seeded.Invitations[0].ID, nil, nil); st != 204 {
		t.Fatalf("delete the demo's invitation: %d", st)
	}

	var bad invitationAnswer
	if st := admin.Do("POST", "/api/admin/invitations", map[string]any{"site_id": env.Site.ID, "message": " ", "delay_seconds": 601,
		"url_contains": string(make([]byte, 201))}, &bad); st != 400 || len(bad.Error.Fields) != 3 {
		t.Fatalf("an invalid invitation: %d %+v", st, bad)
	}
	if st := admin.Do("POST", "/api/admin/invitations", map[string]any{"site_id": "st_nope", "message": "Hi"}, &bad); st != 400 ||
		bad.Error.Fields["site_id"] == "" {
		t.Fatalf("an unknown site: %d %+v", st, bad)
	}
	var in invitationAnswer
	if st := admin.Do("POST", "/api/admin/invitations", map[string]any{"site_id": env.Site.ID, "message": "Need help choosing a chair?",
		"url_contains": "/demo/", "delay_seconds": 5}, &in); st != 201 || in.ID == "" || !in.Enabled || in.DelaySeconds != 5 {
		t.Fatalf("create: %d %+v", st, in)
	}
	var off invitationAnswer
	if st := admin.Do("POST", "/api/admin/invitations", map[string]any{"site_id": env.Site.ID, "message": "Off", "enabled": false}, &off); st != 201 ||
		off.Enabled || off.DelaySeconds != 30 {
		t.Fatalf("create one that is off: %d %+v", st, off)
	}
	if st := admin.Do("PATCH", "/api/admin/invitations/"+in.ID, map[string]any{"site_id": "st_other"}, &bad); st != 400 {
		t.Fatalf("moving an invitation to another site: %d", st)
	}
	if st := env.NewHTTP(t).Do("GET", "/api/admin/invitations", nil, nil); st != 401 {
		t.Fatalf("the list without a session: %d", st)
	}
	ana := env.NewHTTP(t)
	ana.Login(demo.AnaEmail, demo.Password)
	if st := ana.Do("GET", "/api/admin/invitations", nil, nil); st != 403 {
		t.Fatalf("the list for an agent: %d", st)
	}

	// The widget's config lists the one that is on, without its text.
	site := url.QueryEscape(env.Site.PublicID)
	var cfg struct {
		Invitations []map[string]any `json:"invitations"`
	}
	if st := env.NewHTTP(t).Do("GET", "/api/widget/config?site="+site, nil, &cfg); st != 200 || len(cfg.Invitations) != 1 ||
		cfg.Invitations[0]["id"] != in.ID || cfg.Invitations[0]["url_contains"] != "/demo/" || cfg.Invitations[0]["message"] != nil {
		t.Fatalf("the widget's config: %d %+v", st, cfg)
	}

	// Nobody is available: not shown, and not counted.
	token := env.VisitorToken(t)
	show := func(id, tok string) (int, map[string]any) {
		resp, b := rawRequest(t, env, nil, "POST", "/api/widget/invitations/"+id+"/show?site="+site, tok, nil)
		var out map[string]any
		json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	if st, out := show(in.ID, token); st != 200 || out["show"] != false || out["reason"] != "no_agent" {
		t.Fatalf("with nobody available: %d %+v", st, out)
	}
	desk := env.OpenDesk(t, demo.AnaEmail)
	desk.Send("presence.set", "p", map[string]any{"channel": "chat", "status": "available"})
	desk.Expect("ack", "p")
	if st, out := show(in.ID, token); st != 200 || out["show"] != true || out["message"] != "Need help choosing a chair?" ||
		out["name"] != env.Site.Name {
		t.Fatalf("with Ana available: %d %+v", st, out)
	}
	if st, out := show(off.ID, token); st != 200 || out["show"] != false || out["reason"] != "disabled" {
		t.Fatalf("one that is off: %d %+v", st, out)
	}
	for name, c := range map[string]struct {
		id, token string
		status    int
	}{"no token": {in.ID, "", 401}, "an unknown invitation": {"in_nope", token, 404}} {
		if st, _ := show(c.id, c.token); st != c.status {
			t.Errorf("%s: %d, want %d", name, st, c.status)
		}
	}
	var list struct {
		Invitations []invitationAnswer `json:"invitations"`
	}
	if st := admin.Do("GET", "/api/admin/invitations?site_id="+env.Site.ID, nil, &list); st != 200 || len(list.Invitations) != 2 {
		t.Fatalf("the list: %d %+v", st, list)
	}
	for _, got := range list.Invitations {
		if got.ID == in.ID && (got.Shown != 1 || got.Answered != 0) || got.ID == off.ID && got.Shown != 0 {
			t.Fatalf("the counts: %+v", list)
		}
	}
	if st := admin.Do("DELETE", "/api/admin/invitations/"+in.ID, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if st := admin.Do("DELETE", "/api/admin/invitations/"+in.ID, nil, nil); st != 404 {
		t.Fatalf("delete again: %d", st)
	}
}
