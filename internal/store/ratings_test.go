package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A visitor rates their conversation once it has ended, once, within the rating window; the desk's summary shows
// the rating, and the group's figures count it.
func TestRatings(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		id := opened(t, s, f)
		now := time.Now()
		if _, err := s.RateConversation(ctx, id, "v1", 5, "", now); !errors.Is(err, ErrNotRatable) {
			t.Fatalf("an open conversation: %v", err)
		}
		if _, err := s.Claim(ctx, id, f.ana.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EndConversation(ctx, id, f.ana.ID, "Ana", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RateConversation(ctx, id, "v2", 1, "", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another visitor: %v", err)
		}
		if _, err := s.RateConversation(ctx, id, "v1", 5, "", now.Add(RatingWindow+time.Minute)); !errors.Is(err, ErrNotRatable) {
			t.Fatalf("too late: %v", err)
		}
		r, err := s.RateConversation(ctx, id, "v1", 4, "Quick and clear", now.Add(time.Minute))
		if err != nil || r.AgentID != f.ana.ID || r.Score != 4 || r.GroupID == "" {
			t.Fatalf("the rating: %+v %v", r, err)
		}
		if _, err := s.RateConversation(ctx, id, "v1", 1, "", now.Add(2*time.Minute)); !errors.Is(err, ErrRated) {
			t.Fatalf("a second rating: %v", err)
		}
		sm, err := s.ConversationSummary(ctx, id)
		if err != nil || sm.RatingScore != 4 || sm.RatingComment != "Quick and clear" {
			t.Fatalf("the summary: %+v %v", sm, err)
		}
		st, err := s.GroupRatings(ctx, r.GroupID, now)
		if err != nil || st.Count != 1 || st.Average != 4 {
			t.Fatalf("the group's ratings: %+v %v", st, err)
		}
		if st, err := s.GroupRatings(ctx, r.GroupID, now.Add(time.Hour)); err != nil || st.Count != 0 || st.Average != 0 {
			t.Fatalf("the group's ratings since later: %+v %v", st, err)
		}
	})
}
