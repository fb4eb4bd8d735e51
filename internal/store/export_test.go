package store

import (
	"context"
	"testing"
	"time"
)

// The export lists the conversations opened in the period, with their counts and rating, on both databases.
func TestExportConversations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		id := opened(t, s, f)
		now := time.Now()
		if _, err := s.Claim(ctx, id, f.ana.ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EndConversation(ctx, id, f.ana.ID, "Ana", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RateConversation(ctx, id, "v1", 5, "great", now); err != nil {
			t.Fatal(err)
		}
		rows, err := s.ExportConversations(ctx, now.Add(-time.Hour), now.Add(time.Hour))
		if err != nil || len(rows) != 1 {
			t.Fatalf("export: %+v %v", rows, err)
		}
		x := rows[0]
		if x.ID != id || x.SiteName != "Shop" || x.AgentName != "Ana" || x.Status != StatusClosed || x.Messages != 1 ||
			x.FirstMessage != "hello" || x.RatingScore != 5 || x.RatingComment != "great" || x.ClosedAt.IsZero() {
			t.Fatalf("the row: %+v", x)
		}
		if rows, err := s.ExportConversations(ctx, now.Add(time.Hour), now.Add(2*time.Hour)); err != nil || len(rows) != 0 {
			t.Fatalf("another period: %+v %v", rows, err)
		}
	})
}
