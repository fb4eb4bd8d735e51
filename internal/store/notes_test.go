package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Notes: an agent of the conversation's group writes them while it waits, its agent while it is theirs; nobody
// else, and not once it is closed. A note sent again is stored once. They are not events: the transcript a visitor
// reads is unchanged.
func TestNotes(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		id := opened(t, s, f)
		now := time.UnixMilli(1_800_000_000_000)

		// Waiting: Ben, of the group, may write one.
		n1, _, dup, err := s.AddNote(ctx, id, f.ben.ID, "Ben", "n1", "Regular customer, ordered in May", now)
		if err != nil || dup || n1.ID == "" || n1.AuthorName != "Ben" {
			t.Fatalf("Ben's note: %+v %v %v", n1, dup, err)
		}
		if _, _, _, err := s.AddNote(ctx, id, f.outside.ID, "Out", "o1", "x", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an agent of another group: %v", err)
		}
		if _, _, _, err := s.AddNote(ctx, "cv_nope", f.ana.ID, "Ana", "a0", "x", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown conversation: %v", err)
		}

		// Ana's: Ana writes; Ben no longer may (it is not waiting any more).
		if _, err := s.Claim(ctx, id, f.ana.ID, now); err != nil {
			t.Fatal(err)
		}
		n2, _, _, err := s.AddNote(ctx, id, f.ana.ID, "Ana", "a1", "Quoted 12 chairs at 10% off", now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		again, _, dup, err := s.AddNote(ctx, id, f.ana.ID, "Ana", "a1", "Quoted 12 chairs at 10% off", now.Add(2*time.Second))
		if err != nil || !dup || again.ID != n2.ID {
			t.Fatalf("the same note again: %+v %v %v", again, dup, err)
		}
		if _, _, _, err := s.AddNote(ctx, id, f.ben.ID, "Ben", "n2", "x", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Ben on Ana's conversation: %v", err)
		}

		notes, err := s.Notes(ctx, id)
		if err != nil || len(notes) != 2 || notes[0].ID != n1.ID || notes[1].Body != "Quoted 12 chairs at 10% off" ||
			!notes[1].CreatedAt.Equal(now.Add(time.Second)) {
			t.Fatalf("the notes: %+v %v", notes, err)
		}
		evs, err := s.Events(ctx, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Body == n1.Body || e.Body == n2.Body {
				t.Fatalf("a note is in the conversation's events: %+v", e)
			}
		}

		if _, err := s.EndConversation(ctx, id, f.ana.ID, "Ana", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := s.AddNote(ctx, id, f.ana.ID, "Ana", "a2", "x", now); !errors.Is(err, ErrClosed) {
			t.Fatalf("a closed conversation: %v", err)
		}
	})
}
