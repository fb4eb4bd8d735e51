package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Read receipts: each side's read seq only moves forward, never past the last event, and only its own side may
// move it.
func TestReadReceipts(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		id := opened(t, s, f)                                             // seq 1
		if _, err := s.Claim(ctx, id, f.ana.ID, time.Now()); err != nil { // seq 2
			t.Fatal(err)
		}
		c, changed, err := s.MarkAgentRead(ctx, id, f.ana.ID, 1)
		if err != nil || !changed || c.AgentReadSeq != 1 || c.VisitorReadSeq != 0 {
			t.Fatalf("Ana reads seq 1: %+v %v %v", c, changed, err)
		}
		if c, changed, err = s.MarkAgentRead(ctx, id, f.ana.ID, 1); err != nil || changed || c.AgentReadSeq != 1 {
			t.Fatalf("again: %+v %v %v", c, changed, err)
		}
		if _, changed, err = s.MarkAgentRead(ctx, id, f.ana.ID, 9); err != nil || changed {
			t.Fatalf("past the last event: %v %v", changed, err)
		}
		if _, _, err = s.MarkAgentRead(ctx, id, f.ben.ID, 2); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Ben, not its agent: %v", err)
		}
		if c, changed, err = s.MarkVisitorRead(ctx, id, f.site.ID, "v1", 2); err != nil || !changed || c.VisitorReadSeq != 2 {
			t.Fatalf("the visitor reads seq 2: %+v %v %v", c, changed, err)
		}
		if _, _, err = s.MarkVisitorRead(ctx, id, f.site.ID, "v-other", 2); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another visitor: %v", err)
		}
		sm, err := s.ConversationSummary(ctx, id)
		if err != nil || sm.VisitorReadSeq != 2 || sm.AgentReadSeq != 1 {
			t.Fatalf("the summary: %+v %v", sm, err)
		}
	})
}
