package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// Tags: an agent who may read a conversation tags it (once per tag, at most MaxTags), and untags it; the summaries
// carry the tags in order; the most used come first in the suggestions; nobody else may tag it.
func TestTags(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		id := opened(t, s, f)
		now := time.UnixMilli(1_800_000_000_000)

		tags, err := s.TagConversation(ctx, id, f.ben.ID, "refund", now)
		if err != nil || !slices.Equal(tags, []string{"refund"}) {
			t.Fatalf("Ben tags the waiting conversation: %v %v", tags, err)
		}
		if tags, err = s.TagConversation(ctx, id, f.ana.ID, "delivery", now); err != nil || !slices.Equal(tags, []string{"delivery", "refund"}) {
			t.Fatalf("Ana adds one: %v %v", tags, err)
		}
		if tags, err = s.TagConversation(ctx, id, f.ana.ID, "refund", now); err != nil || len(tags) != 2 {
			t.Fatalf("the same tag again: %v %v", tags, err)
		}
		if _, err := s.TagConversation(ctx, id, f.outside.ID, "spam", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an agent of another group: %v", err)
		}
		if _, err := s.TagConversation(ctx, "cv_nope", f.ana.ID, "x", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown conversation: %v", err)
		}
		sm, err := s.ConversationSummary(ctx, id)
		if err != nil || !slices.Equal(sm.Tags, []string{"delivery", "refund"}) {
			t.Fatalf("the summary's tags: %v %v", sm.Tags, err)
		}
		for i := range MaxTags - 2 {
			if _, err := s.TagConversation(ctx, id, f.ana.ID, fmt.Sprintf("t%02d", i), now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.TagConversation(ctx, id, f.ana.ID, "one-more", now); !errors.Is(err, ErrTooManyTags) {
			t.Fatalf("a tag over the limit: %v", err)
		}
		if tags, err = s.UntagConversation(ctx, id, f.ana.ID, "t00"); err != nil || len(tags) != MaxTags-1 || slices.Contains(tags, "t00") {
			t.Fatalf("untag: %v %v", tags, err)
		}
		if _, err := s.UntagConversation(ctx, id, f.outside.ID, "refund"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("untag by an agent of another group: %v", err)
		}

		// Another conversation tagged "refund": it leads the suggestions.
		other, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v2", "m1", "hello"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TagConversation(ctx, other.Conversation.ID, f.ana.ID, "refund", now); err != nil {
			t.Fatal(err)
		}
		popular, err := s.PopularTags(ctx, now.Add(-time.Hour), 3)
		if err != nil || len(popular) != 3 || popular[0] != (TagCount{Tag: "refund", Count: 2}) || popular[1].Tag != "delivery" {
			t.Fatalf("the suggestions: %+v %v", popular, err)
		}
		if none, err := s.PopularTags(ctx, now.Add(time.Hour), 3); err != nil || len(none) != 0 {
			t.Fatalf("suggestions since later: %+v %v", none, err)
		}
	})
}
