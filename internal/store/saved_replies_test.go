package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Saved replies: one per shortcut, on both databases (each reports a taken shortcut its own way).
func TestSavedReplies(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now()
		a, err := s.CreateSavedReply(ctx, "delivery", "Five days.", now)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.CreateSavedReply(ctx, "returns", "Thirty days.", now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateSavedReply(ctx, "delivery", "x", now); !errors.Is(err, ErrConflict) {
			t.Fatalf("a shortcut taken: %v", err)
		}
		b.Shortcut = "delivery"
		if _, err := s.UpdateSavedReply(ctx, b, now); !errors.Is(err, ErrConflict) {
			t.Fatalf("renamed onto a taken shortcut: %v", err)
		}
		a.Body = "A week."
		if _, err := s.UpdateSavedReply(ctx, a, now); err != nil {
			t.Fatal(err)
		}
		list, err := s.SavedReplies(ctx)
		if err != nil || len(list) != 2 || list[0].Shortcut != "delivery" || list[0].Body != "A week." || list[1].Body != "Thirty days." {
			t.Fatalf("the list: %+v %v", list, err)
		}
		if err := s.DeleteSavedReply(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SavedReply(ctx, a.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a deleted one: %v", err)
		}
		if err := s.DeleteSavedReply(ctx, a.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted twice: %v", err)
		}
	})
}
