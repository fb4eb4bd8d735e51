package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

type apiErr struct {
	Error struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"error"`
}

func TestLoginAnswersWrongCredentialsUniformly(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	if st := admin.Do("PATCH", "/api/admin/agents/"+agentID(t, admin, demo.BenEmail), map[string]any{"disabled": true}, nil); st != 200 {
		t.Fatalf("disable ben: %d", st)
	}
	cases := map[string][2]string{
		"wrong password":   {demo.AnaEmail, "not-the-password"},
		"unknown email":    {"nobody@demo.parley.test", demo.Password},
		"disabled account": {demo.BenEmail, demo.Password},
		"empty":            {"", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var e apiErr
			st := env.NewHTTP(t).Do("POST", "/api/auth/login", map[string]string{"email": c[0], "password": c[1]}, &e)
			if st != 401 || e.Error.Code != "invalid_credentials" {
				t.Fatalf("got %d %+v, want 401 invalid_credentials", st, e)
			}
		})
	}
	t.Run("from another site", func(t *testing.T) {
		h := env.NewHTTP(t)
		h.Origin = "https://evil.example"
		if st := h.Do("POST", "/api/auth/login", map[string]string{"email": demo.AnaEmail, "password": demo.Password}, nil); st != 403 {
			t.Fatalf("cross-site login: %d, want 403", st)
		}
	})
}

func TestSessionCookieAndCSRF(t *testing.T) {
	env := apptest.Start(t, nil)
	h := env.NewHTTP(t)
	req, _ := http.NewRequest("POST", env.URL+"/api/auth/login", strings.NewReader(`{"email":"ana@demo.parley.test","password":"demo-password"}`))
	req.Header.Set("Origin", env.URL)
	resp, err := h.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"parley_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Fatalf("cookie %q is Secure over plain HTTP", cookie)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if st := h.Do("GET", "/api/auth/me", nil, &me); st != 200 || me.CSRF == "" {
		t.Fatalf("me: %d %+v", st, me)
	}
	body := map[string]string{"current_password": demo.Password, "new_password": "another-password"}
	if st := h.Do("POST", "/api/auth/password", body, nil); st != 403 {
		t.Fatalf("mutation without CSRF token: %d, want 403", st)
	}
	h.CSRF = "wrong"
	if st := h.Do("POST", "/api/auth/password", body, nil); st != 403 {
		t.Fatalf("mutation with a wrong CSRF token: %d, want 403", st)
	}
	h.CSRF, h.Origin = me.CSRF, "https://evil.example"
	if st := h.Do("POST", "/api/auth/password", body, nil); st != 403 {
		t.Fatalf("mutation from another origin: %d, want 403", st)
	}
	h.Origin = env.URL
	if st := h.Do("POST", "/api/auth/logout", nil, nil); st != 204 {
		t.Fatalf("logout: %d", st)
	}
	if st := h.Do("GET", "/api/auth/me", nil, nil); st != 401 {
		t.Fatalf("after logout: %d, want 401", st)
	}
}

func TestWidgetAPIEnforcesOrigins(t *testing.T) {
	env := apptest.Start(t, nil)
	site := env.Site.PublicID
	cases := []struct {
		name, method, path, origin, body string
		status                           int
		code                             string
	}{
		{"config from the site", "GET", "/api/widget/config?site=" + site, env.Site.AllowedOrigins[0], "", 200, ""},
		{"config from elsewhere", "GET", "/api/widget/config?site=" + site, "https://evil.example", "", 403, "origin_not_allowed"},
		{"unknown site", "GET", "/api/widget/config?site=site_nope", env.URL, "", 404, "site_not_found"},
		{"session from elsewhere", "POST", "/api/widget/session", "https://evil.example", `{"site":"` + site + `"}`, 403, "origin_not_allowed"},
		{"forged token", "POST", "/api/widget/session", env.URL, `{"site":"` + site + `","token":"abc.def"}`, 401, "token_invalid"},
		{"malformed body", "POST", "/api/widget/session", env.URL, `{"site":`, 400, "bad_request"},
		{"unknown field", "POST", "/api/widget/session", env.URL, `{"site":"` + site + `","admin":true}`, 400, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, env.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Origin", c.origin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(data), c.code) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, data, c.status, c.code)
			}
			if c.status == 200 && resp.Header.Get("Access-Control-Allow-Origin") != c.origin {
				t.Fatalf("CORS header %q", resp.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
	t.Run("frame-ancestors lists the allowed origins", func(t *testing.T) {
		resp, err := http.Get(env.URL + "/widget/frame?site=" + site)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'self' "+env.Site.AllowedOrigins[0]) {
			t.Fatalf("CSP %q", csp)
		}
	})
	t.Run("a renewed token keeps the visitor", func(t *testing.T) {
		h := env.NewHTTP(t)
		var first, second struct {
			Token     string `json:"token"`
			VisitorID string `json:"visitor_id"`
		}
		h.Do("POST", "/api/widget/session", map[string]string{"site": site}, &first)
		time.Sleep(1100 * time.Millisecond) // a new expiry second, so a new token
		h.Do("POST", "/api/widget/session", map[string]string{"site": site, "token": first.Token}, &second)
		if second.VisitorID != first.VisitorID || second.Token == first.Token {
			t.Fatalf("first %+v, renewed %+v", first, second)
		}
	})
}

func TestAdminDisablesAnAgentAndTheirSocketCloses(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := env.NewHTTP(t)
	ana.Login(demo.AnaEmail, demo.Password)
	sock, _, err := env.DialDesk(t, ana)
	if err != nil {
		t.Fatal(err)
	}
	sock.Hello(map[string]any{})

	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	if st := ana.Do("GET", "/api/admin/agents", nil, nil); st != 403 {
		t.Fatalf("an agent reads the admin API: %d", st)
	}
	if st := admin.Do("PATCH", "/api/admin/agents/"+agentID(t, admin, demo.AnaEmail), map[string]any{"disabled": true}, nil); st != 200 {
		t.Fatalf("disable: %d", st)
	}
	if code := sock.ExpectClose(); code != 4502 {
		t.Fatalf("socket closed with %d, want 4502", code)
	}
	if st := ana.Do("GET", "/api/auth/me", nil, nil); st != 401 {
		t.Fatalf("disabled agent's session: %d", st)
	}
}

func TestAdminValidation(t *testing.T) {
	env := apptest.Start(t, nil)
	admin := env.NewHTTP(t)
	admin.Login(demo.AdminEmail, demo.Password)
	var e apiErr
	st := admin.Do("POST", "/api/admin/agents", map[string]any{"email": "not-an-email", "name": "", "password": "short", "chat_capacity": 0}, &e)
	if st != 400 || e.Error.Code != "invalid_input" {
		t.Fatalf("got %d %+v", st, e)
	}
	for _, f := range []string{"email", "name", "password", "chat_capacity"} {
		if e.Error.Fields[f] == "" {
			t.Errorf("no error for field %s: %+v", f, e.Error.Fields)
		}
	}
	var groups struct {
		Groups []struct{ ID string } `json:"groups"`
	}
	admin.Do("GET", "/api/admin/groups", nil, &groups)
	support := []string{groups.Groups[0].ID}
	var dup apiErr
	st = admin.Do("POST", "/api/admin/agents", map[string]any{"email": demo.AnaEmail, "name": "Ana 2", "password": "long-enough", "group_ids": support}, &dup)
	if st != 409 || dup.Error.Code != "email_taken" {
		t.Fatalf("duplicate email: %d %+v", st, dup)
	}
	var nogroup apiErr
	st = admin.Do("POST", "/api/admin/agents", map[string]any{"email": "dan@demo.parley.test", "name": "Dan", "password": "long-enough"}, &nogroup)
	if st != 400 || nogroup.Error.Fields["group_ids"] == "" {
		t.Fatalf("an agent in no group: %d %+v", st, nogroup)
	}
	var created struct{ ID string }
	if st := admin.Do("POST", "/api/admin/agents", map[string]any{"email": "cleo@demo.parley.test", "name": "Cléo", "password": "long-enough", "group_ids": support}, &created); st != 201 {
		t.Fatalf("create: %d", st)
	}
	var empty apiErr
	if st := admin.Do("PATCH", "/api/admin/agents/"+created.ID, map[string]any{"group_ids": []string{}}, &empty); st != 400 || empty.Error.Fields["group_ids"] == "" {
		t.Fatalf("taking an agent out of every group: %d %+v", st, empty)
	}
	var negative apiErr
	if st := admin.Do("PATCH", "/api/admin/groups/"+support[0], map[string]any{"queue_places": -1, "offer_timeout_seconds": 1, "chat_mode": "shout"}, &negative); st != 400 ||
		negative.Error.Fields["queue_places"] == "" || negative.Error.Fields["offer_timeout_seconds"] == "" || negative.Error.Fields["chat_mode"] == "" {
		t.Fatalf("invalid group settings: %d %+v", st, negative)
	}
	var orphan apiErr
	if st := admin.Do("PATCH", "/api/admin/groups/"+support[0], map[string]any{"member_ids": []string{}}, &orphan); st != 400 || orphan.Error.Fields["member_ids"] == "" {
		t.Fatalf("emptying the only group of its agents: %d %+v", st, orphan)
	}
	cleo := env.NewHTTP(t)
	cleo.Login("cleo@demo.parley.test", "long-enough")

	var sites struct {
		Sites []struct{ ID string } `json:"sites"`
	}
	admin.Do("GET", "/api/admin/sites", nil, &sites)
	for _, bad := range []string{"shop.example.com", "https://shop.example.com/path", "https://a.example; script-src *", "javascript:alert(1)"} {
		st := admin.Do("PATCH", "/api/admin/sites/"+sites.Sites[0].ID, map[string]any{"allowed_origins": []string{bad}}, &e)
		if st != 400 || e.Error.Fields["allowed_origins"] == "" {
			t.Errorf("origin %q accepted: %d", bad, st)
		}
	}
}

func TestOperations(t *testing.T) {
	env := apptest.Start(t, nil)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "parley_connections"} {
		resp, err := http.Get(env.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(data), want) {
			t.Errorf("%s: %d %.200s", path, resp.StatusCode, data)
		}
	}
}

// agentID finds an account's id through the admin API.
func agentID(t *testing.T, admin *apptest.HTTP, email string) string {
	t.Helper()
	var agents struct {
		Agents []struct{ ID, Email string } `json:"agents"`
	}
	admin.Do("GET", "/api/admin/agents", nil, &agents)
	for _, a := range agents.Agents {
		if a.Email == email {
			return a.ID
		}
	}
	t.Fatalf("no account %s", email)
	return ""
}

func TestSupervisorStats(t *testing.T) {
	env := apptest.Start(t, nil)
	ana, ben := env.NewHTTP(t), env.NewHTTP(t)
	ana.Login(demo.AnaEmail, demo.Password) // a supervisor in the demo
	ben.Login(demo.BenEmail, demo.Password)
	// Ana is available for video only.
	desk := env.OpenDesk(t, demo.AnaEmail)
	desk.Send("presence.set", "p", map[string]any{"channel": "video", "status": "available"})
	desk.Expect("ack", "p")

	type channelStats struct {
		Channel string         `json:"channel"`
		Waiting int            `json:"waiting"`
		Agents  map[string]int `json:"agents"`
		P90     *float64       `json:"p90_wait_seconds"`
	}
	var stats struct {
		Groups []struct {
			Name     string         `json:"name"`
			Waiting  int            `json:"waiting"`
			Channels []channelStats `json:"channels"`
		} `json:"groups"`
	}
	if st := ana.Do("GET", "/api/supervisor/stats", nil, &stats); st != 200 || len(stats.Groups) != 1 {
		t.Fatalf("supervisor stats: %d %+v", st, stats)
	}
	g := stats.Groups[0]
	if g.Name != "Support" || g.Waiting != 0 || len(g.Channels) != 2 {
		t.Fatalf("stats %+v", g)
	}
	chat, video := g.Channels[0], g.Channels[1]
	if chat.Channel != "chat" || chat.Agents["offline"] != 2 || chat.Agents["available"] != 0 || chat.P90 != nil {
		t.Fatalf("chat stats %+v", chat)
	}
	if video.Channel != "video" || video.Agents["available"] != 1 || video.Agents["offline"] != 1 || video.P90 != nil {
		t.Fatalf("video stats %+v", video)
	}
	if st := ben.Do("GET", "/api/supervisor/stats", nil, nil); st != 403 {
		t.Fatalf("an agent who is not a supervisor: %d", st)
	}
}
