package apptest

import (
	"context"
	"testing"

	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
)

// BotSite is the demo's second site, whose chat starts with the scenario bot.
func (e *Env) BotSite(t testing.TB) store.Site {
	t.Helper()
	site, err := e.Store.SiteByName(context.Background(), demo.BotSiteName)
	if err != nil {
		t.Fatalf("the demo bot site: %v", err)
	}
	return site
}

// VisitorTokenOn asks for a new visitor's token on the site with this public id.
func (e *Env) VisitorTokenOn(t testing.TB, publicID string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	h := e.NewHTTP(t)
	if st := h.Do("POST", "/api/widget/session", map[string]string{"site": publicID}, &out); st != 200 {
		t.Fatalf("visitor session on %s: status %d", publicID, st)
	}
	return out.Token
}

// VisitorOn opens a visitor socket on the site with this public id and says hello with data (the token is added).
func (e *Env) VisitorOn(t testing.TB, publicID string, hello map[string]any) *Socket {
	t.Helper()
	s, _, err := e.Dial(t, "/ws/visitor?site="+publicID, e.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hello == nil {
		hello = map[string]any{}
	}
	if _, ok := hello["token"]; !ok {
		hello["token"] = e.VisitorTokenOn(t, publicID)
	}
	s.Hello(hello)
	return s
}

// Admin returns an HTTP client logged in as the demo's admin.
func (e *Env) Admin(t testing.TB) *HTTP {
	t.Helper()
	h := e.NewHTTP(t)
	h.Login(demo.AdminEmail, demo.Password)
	return h
}
