package store

import (
	"context"
	"testing"
	"time"
)

// A returning visitor's earlier conversations: listed with the new one, and readable by the agents of the site's
// groups once closed, not by an agent of another group; another agent's open conversation stays theirs.
func TestVisitorHistory(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		first := opened(t, s, f)
		if _, err := s.Claim(ctx, first, f.ana.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		c, _ := s.Conversation(ctx, first)
		if s.AgentCanSee(ctx, c, f.ben.ID) {
			t.Fatal("Ben reads Ana's open conversation")
		}
		if _, err := s.EndConversation(ctx, first, f.ana.ID, "Ana", time.Now()); err != nil {
			t.Fatal(err)
		}
		c, _ = s.Conversation(ctx, first)
		if !s.AgentCanSee(ctx, c, f.ben.ID) || s.AgentCanSee(ctx, c, f.outside.ID) {
			t.Fatal("a closed conversation: Ben, of the site's group, should read it; the outsider should not")
		}

		res, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", "m2", "I'm back"))
		if err != nil {
			t.Fatal(err)
		}
		second := res.Conversation
		if second.ID == first {
			t.Fatal("the returning visitor's message went to the closed conversation")
		}
		if _, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v2", "m3", "someone else")); err != nil {
			t.Fatal(err)
		}
		hist, err := s.VisitorHistory(ctx, second)
		if err != nil || len(hist) != 1 || hist[0].ID != first || hist[0].AgentName != "Ana" || hist[0].LastBody != "hello" {
			t.Fatalf("the history: %+v %v", hist, err)
		}
		if hist, err := s.VisitorHistory(ctx, c); err != nil || len(hist) != 0 {
			t.Fatalf("the first conversation's history lists the open one: %+v %v", hist, err)
		}
	})
}
