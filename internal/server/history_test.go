package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
)

// GET /api/desk/conversations/{id}/history: the visitor's earlier conversations, for an agent who may read the
// current one; the earlier ones' transcripts are readable by the site's agents once closed.
func TestDeskHistory(t *testing.T) {
	env := apptest.Start(t, nil)
	ctx := t.Context()
	ana, err := env.Store.AccountByEmail(ctx, demo.AnaEmail)
	if err != nil {
		t.Fatal(err)
	}
	first := closedWithAna(t, env, "v-history", "First visit")
	second := visitorSays(t, env, "v-history", "m2", "Back again")

	ben := env.NewHTTP(t)
	ben.Login(demo.BenEmail, demo.Password)
	var hist struct {
		Conversations []struct {
			ID        string `json:"id"`
			AgentName string `json:"agent_name"`
		} `json:"conversations"`
	}
	if st := ben.Do("GET", "/api/desk/conversations/"+second.ID+"/history", nil, &hist); st != 200 || len(hist.Conversations) != 1 ||
		hist.Conversations[0].ID != first.ID || hist.Conversations[0].AgentName != "Ana" {
		t.Fatalf("the history: %d %+v", st, hist)
	}
	if st := ben.Do("GET", "/api/desk/conversations/"+first.ID+"/events", nil, nil); st != 200 {
		t.Fatalf("Ben reads the earlier, closed conversation: %d", st)
	}
	if st := ben.Do("GET", "/api/desk/conversations/cv_nope/history", nil, nil); st != 404 {
		t.Fatalf("an unknown conversation: %d", st)
	}
	if st := env.NewHTTP(t).Do("GET", "/api/desk/conversations/"+second.ID+"/history", nil, nil); st != 401 {
		t.Fatalf("without a session: %d", st)
	}
	// Ana takes the new one: Ben may no longer read it, nor its history.
	if _, err := env.Store.Claim(ctx, second.ID, ana.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if st := ben.Do("GET", "/api/desk/conversations/"+second.ID+"/history", nil, nil); st != 404 {
		t.Fatalf("the history of Ana's open conversation, for Ben: %d", st)
	}
}

// GET /api/desk/search: the conversations the agent may read that mention the words; too short or too long a
// search is a clear error.
func TestDeskSearch(t *testing.T) {
	env := apptest.Start(t, nil)
	c := visitorSays(t, env, "v-search", "m1", "Do you ship walnut chairs to Lyon?")
	ben := env.NewHTTP(t)
	ben.Login(demo.BenEmail, demo.Password)
	var found struct {
		Conversations []struct {
			ID string `json:"id"`
		} `json:"conversations"`
	}
	if st := ben.Do("GET", "/api/desk/search?q=WALNUT+chairs", nil, &found); st != 200 || len(found.Conversations) != 1 || found.Conversations[0].ID != c.ID {
		t.Fatalf("search: %d %+v", st, found)
	}
	if st := ben.Do("GET", "/api/desk/search?q=teak", nil, &found); st != 200 || len(found.Conversations) != 0 {
		t.Fatalf("search for nothing: %d %+v", st, found)
	}
	for _, q := range []string{"", "w", strings.Repeat("w", 101)} {
		if st := ben.Do("GET", "/api/desk/search?q="+q, nil, nil); st != 400 {
			t.Fatalf("search %q: %d", q, st)
		}
	}
	if st := env.NewHTTP(t).Do("GET", "/api/desk/search?q=walnut", nil, nil); st != 401 {
		t.Fatalf("without a session: %d", st)
	}
}

// visitorSays has a visitor of the demo site write, and returns their conversation.
func visitorSays(t *testing.T, env *apptest.Env, visitorID, clientMsgID, body string) store.Conversation {
	t.Helper()
	site, err := env.Store.SiteByName(t.Context(), demo.SiteName)
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.Store.AppendVisitorMessage(t.Context(), store.VisitorMessage{SiteID: site.ID, VisitorID: visitorID, VisitorName: "Visitor",
		ClientMsgID: clientMsgID, Body: body, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return res.Conversation
}

// closedWithAna has a visitor of the demo site write, Ana take the conversation and end it; it returns it.
func closedWithAna(t *testing.T, env *apptest.Env, visitorID, body string) store.Conversation {
	t.Helper()
	c := visitorSays(t, env, visitorID, "m1", body)
	ana, err := env.Store.AccountByEmail(t.Context(), demo.AnaEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Claim(t.Context(), c.ID, ana.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.EndConversation(t.Context(), c.ID, ana.ID, "Ana", time.Now()); err != nil {
		t.Fatal(err)
	}
	return c
}
