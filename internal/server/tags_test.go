package server_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// Tags over the desk's API: cleaned (lowercase, spaces collapsed), listed in the summaries, searched, suggested;
// a bad tag, an unknown or foreign conversation and an eleventh tag are refused.
func TestConversationTags(t *testing.T) {
	env := apptest.Start(t, nil)
	c := visitorSays(t, env, "v-tags", "m1", "My order never came")
	ben := env.NewHTTP(t)
	ben.Login(demo.BenEmail, demo.Password)
	var out struct {
		Tags []string `json:"tags"`
	}
	tag := func(method, tag string) int {
		out.Tags = nil
		return ben.Do(method, "/api/desk/conversations/"+c.ID+"/tags/"+url.PathEscape(tag), nil, &out)
	}
	if st := tag("PUT", "  Late   Delivery "); st != 200 || !slices.Equal(out.Tags, []string{"late delivery"}) {
		t.Fatalf("tag: %d %v", st, out.Tags)
	}
	if st := tag("PUT", "refund"); st != 200 || !slices.Equal(out.Tags, []string{"late delivery", "refund"}) {
		t.Fatalf("a second tag: %d %v", st, out.Tags)
	}
	for _, bad := range []string{"-x", strings.Repeat("a", 33), "a,b", "<b>"} {
		if st := tag("PUT", bad); st != 400 {
			t.Errorf("tag %q: %d", bad, st)
		}
	}
	if st := ben.Do("PUT", "/api/desk/conversations/cv_nope/tags/x", nil, nil); st != 404 {
		t.Fatalf("an unknown conversation: %d", st)
	}
	noCSRF := *ben
	noCSRF.CSRF = ""
	if st := noCSRF.Do("PUT", "/api/desk/conversations/"+c.ID+"/tags/x", nil, nil); st != 403 {
		t.Fatalf("without the CSRF token: %d", st)
	}
	for i := range 8 {
		if st := tag("PUT", "t"+string(rune('a'+i))); st != 200 {
			t.Fatalf("tag %d: %d", i, st)
		}
	}
	if st := tag("PUT", "one too many"); st != 409 {
		t.Fatalf("an eleventh tag: %d", st)
	}
	if st := tag("DELETE", "ta"); st != 200 || len(out.Tags) != 9 {
		t.Fatalf("untag: %d %v", st, out.Tags)
	}

	var list struct {
		Conversations []struct {
			ID   string   `json:"id"`
			Tags []string `json:"tags"`
		} `json:"conversations"`
	}
	if st := ben.Do("GET", "/api/desk/search?q=refund", nil, &list); st != 200 || len(list.Conversations) != 1 ||
		list.Conversations[0].ID != c.ID || !slices.Contains(list.Conversations[0].Tags, "late delivery") {
		t.Fatalf("search by tag: %d %+v", st, list)
	}
	var popular struct {
		Tags []struct {
			Tag   string `json:"tag"`
			Count int    `json:"count"`
		} `json:"tags"`
	}
	if st := ben.Do("GET", "/api/desk/tags", nil, &popular); st != 200 || len(popular.Tags) != 9 {
		t.Fatalf("the suggestions: %d %+v", st, popular)
	}

	// Ana takes it: Ben may no longer tag it.
	ana, err := env.Store.AccountByEmail(t.Context(), demo.AnaEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Claim(t.Context(), c.ID, ana.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if st := tag("PUT", "mine"); st != 404 {
		t.Fatalf("Ben tags Ana's conversation: %d", st)
	}
}
