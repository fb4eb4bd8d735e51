package store

import (
	"context"
	"testing"
	"time"
)

// Search: the words of messages, notes and left e-mail addresses, whatever their case, only in the conversations
// the agent may read; "%" and "_" are plain characters.
func TestSearchConversations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		say := func(visitor, body string) string {
			res, err := s.AppendVisitorMessage(ctx, visitorMsg(f, visitor, visitor+"-m", body))
			if err != nil {
				t.Fatal(err)
			}
			return res.Conversation.ID
		}
		walnut := say("v1", "Is the Walnut chair 100% solid wood?")
		oak := say("v2", "Do you have an oak_table in stock?")
		mine := say("v3", "Hello")
		if _, err := s.Claim(ctx, mine, f.ana.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.AddNote(ctx, mine, f.ana.ID, "Ana", "n1", "Wants a WALNUT bench", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.SetContact(ctx, oak, "v2", "oak.lover@example.com"); err != nil {
			t.Fatal(err)
		}

		ids := func(agentID, text string) map[string]bool {
			t.Helper()
			got, err := s.SearchConversations(ctx, agentID, text)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, sm := range got {
				out[sm.ID] = true
			}
			return out
		}
		for _, tc := range []struct {
			agent, text string
			want        []string
		}{
			{f.ana.ID, "walnut", []string{walnut, mine}},
			{f.ben.ID, "walnut", []string{walnut}}, // the group's waiting conversations, not Ana's open one
			{f.outside.ID, "walnut", nil},          // another group's agent
			{f.ana.ID, "100%", []string{walnut}},
			{f.ana.ID, "k_t", []string{oak}},
			{f.ana.ID, "x%y", nil},
			{f.ana.ID, "OAK.LOVER", []string{oak}}, // the e-mail address left
		} {
			got := ids(tc.agent, tc.text)
			if len(got) != len(tc.want) {
				t.Fatalf("%q for %s: %v, want %v", tc.text, tc.agent, got, tc.want)
			}
			for _, id := range tc.want {
				if !got[id] {
					t.Fatalf("%q for %s: %v, want %v", tc.text, tc.agent, got, tc.want)
				}
			}
		}
	})
}
