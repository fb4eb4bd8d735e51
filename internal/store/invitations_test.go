package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Invitations: written per site; a visitor's first message that answers one starts the conversation with it (an
// "invited" event by the site) and counts the answer; an invitation that is off, or another site's, changes
// nothing but the message still goes through; a later message never repeats it.
func TestProactiveInvitations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		now := time.UnixMilli(1_800_000_000_000)
		in, err := s.CreateInvitation(ctx, Invitation{SiteID: f.site.ID, Message: "Need help choosing a chair?",
			URLContains: "/chairs", Delay: 20 * time.Second, Enabled: true}, now)
		if err != nil || in.ID == "" {
			t.Fatalf("create: %+v %v", in, err)
		}
		if _, err := s.CreateInvitation(ctx, Invitation{SiteID: "st_nope", Message: "x"}, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an invitation on an unknown site: %v", err)
		}
		off, err := s.CreateInvitation(ctx, Invitation{SiteID: f.site.ID, Message: "Off", Enabled: false}, now.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.InvitationShown(ctx, in.ID); err != nil {
			t.Fatal(err)
		}

		m := visitorMsg(f, "v1", "m1", "Yes: which one is the most comfortable?")
		m.InvitationID = in.ID
		res, err := s.AppendVisitorMessage(ctx, m)
		if err != nil || !res.Created || len(res.Events) != 2 {
			t.Fatalf("the answer: %+v %v", res, err)
		}
		invited, msg := res.Events[0], res.Last()
		if invited.Type != EventInvited || invited.Seq != 1 || invited.Author != AuthorSystem || invited.AuthorName != "Shop" ||
			invited.Body != "Need help choosing a chair?" || msg.Seq != 2 || msg.Body != m.Body {
			t.Fatalf("the events: %+v", res.Events)
		}
		// A later message of the same conversation, even naming the invitation, doesn't repeat it.
		m2 := visitorMsg(f, "v1", "m2", "And in walnut?")
		m2.InvitationID = in.ID
		if res2, err := s.AppendVisitorMessage(ctx, m2); err != nil || len(res2.Events) != 1 || res2.Last().Seq != 3 {
			t.Fatalf("a later message: %+v %v", res2, err)
		}
		got, err := s.Invitation(ctx, in.ID)
		if err != nil || got.Shown != 1 || got.Answered != 1 || got.URLContains != "/chairs" || got.Delay != 20*time.Second {
			t.Fatalf("the counts: %+v %v", got, err)
		}

		// Off, or unknown: the message opens a conversation of its own, without an invitation.
		for i, id := range []string{off.ID, "in_nope"} {
			m := visitorMsg(f, "v-other-"+string(rune('a'+i)), "m1", "Hello")
			m.InvitationID = id
			res, err := s.AppendVisitorMessage(ctx, m)
			if err != nil || !res.Created || len(res.Events) != 1 || res.Last().Type != EventMessage {
				t.Fatalf("answering invitation %q: %+v %v", id, res, err)
			}
		}

		// Update, list, delete.
		in.Message, in.Enabled = "Questions about our chairs?", false
		if up, err := s.UpdateInvitation(ctx, in, now.Add(time.Minute)); err != nil || up.Message != in.Message || up.Enabled || up.Answered != 1 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if list, err := s.Invitations(ctx, f.site.ID); err != nil || len(list) != 2 || list[0].ID != in.ID {
			t.Fatalf("list: %+v %v", list, err)
		}
		if err := s.DeleteInvitation(ctx, in.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteInvitation(ctx, in.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete again: %v", err)
		}
		if _, err := s.UpdateInvitation(ctx, in, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update a deleted one: %v", err)
		}
		// The conversation it opened keeps its first event.
		if evs, err := s.Events(ctx, res.Conversation.ID, 0, 10); err != nil || evs[0].Type != EventInvited {
			t.Fatalf("the transcript after the delete: %+v %v", evs, err)
		}
	})
}
