package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// A call's life in the store: one under way per conversation, answered once with a call_started event, ended once
// with a call_ended event carrying its quality record, and no second call after one was answered.
func TestCallLifecycle(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		first, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", "m1", "hello"))
		if err != nil {
			t.Fatal(err)
		}
		conv := first.Conversation.ID
		now := time.UnixMilli(1_763_000_000_000)

		if _, err := s.CreateCall(ctx, conv, "someone-else", now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another visitor's conversation: %v", err)
		}
		c, err := s.CreateCall(ctx, conv, "v1", now)
		if err != nil || c.State != CallQueued || c.SiteID != f.site.ID {
			t.Fatalf("create: %+v %v", c, err)
		}
		if _, err := s.CreateCall(ctx, conv, "v1", now); !errors.Is(err, ErrConflict) {
			t.Fatalf("second call under way: %v", err)
		}
		r, err := s.CreateRequest(ctx, conv, ChannelVideo, f.site.GroupID, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.LinkCallRequest(ctx, c.ID, r.ID); err != nil {
			t.Fatal(err)
		}

		answered, app, changed, err := s.AnswerCall(ctx, c.ID, f.ana.ID, "Ana", now.Add(5*time.Second))
		if err != nil || !changed || answered.State != CallLive || answered.AgentName != "Ana" {
			t.Fatalf("answer: %+v %v", answered, err)
		}
		if len(app.Events) != 1 || app.Events[0].Type != EventCallStarted {
			t.Fatalf("answer events: %+v", app.Events)
		}
		if _, _, changed, err := s.AnswerCall(ctx, c.ID, f.ben.ID, "Ben", now.Add(6*time.Second)); err != nil || changed {
			t.Fatalf("second answer changed the call: %v", err)
		}
		if got, err := s.AgentCalls(ctx, f.ana.ID); err != nil || len(got) != 1 {
			t.Fatalf("Ana's calls: %+v %v", got, err)
		}
		if err := s.SetCallMedia(ctx, c.ID, false, false, true); err != nil {
			t.Fatal(err)
		}

		record := `{"call_id":"x","duration_ms":60000}`
		ended, app, changed, err := s.EndCall(ctx, c.ID, "visitor", "hangup", record, now.Add(65*time.Second))
		if err != nil || !changed || ended.State != CallEnded || ended.EndedBy != "visitor" || ended.VisitorCamera {
			t.Fatalf("end: %+v %v", ended, err)
		}
		if len(app.Events) != 1 || app.Events[0].Type != EventCallEnded || !json.Valid([]byte(app.Events[0].Data)) {
			t.Fatalf("end events: %+v", app.Events)
		}
		if _, _, changed, _ := s.EndCall(ctx, c.ID, "agent", "hangup", "", now.Add(66*time.Second)); changed {
			t.Fatal("a call ended twice")
		}
		evs, err := s.Events(ctx, conv, 0, 100)
		if err != nil || len(evs) != 3 || evs[2].Data != record {
			t.Fatalf("transcript: %+v %v", evs, err)
		}
		if _, err := s.LiveCall(ctx, conv); !errors.Is(err, ErrNotFound) {
			t.Fatalf("live call after the end: %v", err)
		}
		if used, err := s.VideoUsed(ctx, conv); err != nil || !used {
			t.Fatalf("video used: %v %v", used, err)
		}
		if _, err := s.CreateCall(ctx, conv, "v1", now); !errors.Is(err, ErrVideoUsed) {
			t.Fatalf("call after a call: %v", err)
		}
	})
}

// An invitation waits for its answer until its time; then it expires and can't start a call. One that is accepted
// starts a call even after an earlier call in the conversation.
func TestInvitations(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		first, err := s.AppendVisitorMessage(ctx, visitorMsg(f, "v1", "m1", "hello"))
		if err != nil {
			t.Fatal(err)
		}
		conv := first.Conversation.ID
		now := time.UnixMilli(1_763_000_000_000)
		if _, err := s.CreateInvite(ctx, conv, f.ana.ID, InvitePending, false, now, now.Add(time.Minute)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an invitation to a conversation that isn't Ana's: %v", err)
		}
		if _, err := s.Claim(ctx, conv, f.ana.ID, now); err != nil {
			t.Fatal(err)
		}
		inv, err := s.CreateInvite(ctx, conv, f.ana.ID, InvitePending, false, now, now.Add(time.Minute))
		if err != nil || inv.State != InvitePending || inv.VisitorID != "v1" || inv.AgentName != "Ana" {
			t.Fatalf("invite: %+v %v", inv, err)
		}
		if _, err := s.CreateInvite(ctx, conv, f.ana.ID, InvitePending, false, now, now.Add(time.Minute)); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second invitation: %v", err)
		}
		if ended, err := s.ExpireInvites(ctx, now.Add(30*time.Second)); err != nil || len(ended) != 0 {
			t.Fatalf("expired too early: %+v %v", ended, err)
		}
		ended, err := s.ExpireInvites(ctx, now.Add(time.Minute))
		if err != nil || len(ended) != 1 || ended[0].State != InviteExpired {
			t.Fatalf("expiry: %+v %v", ended, err)
		}
		if _, err := s.AnswerInvite(ctx, inv.ID, "v1", true, now.Add(61*time.Second), now.Add(3*time.Minute)); !errors.Is(err, ErrConflict) {
			t.Fatalf("accepting an expired invitation: %v", err)
		}
		if _, _, err := s.CreateInvitedCall(ctx, conv, "v1", inv.ID, now.Add(62*time.Second)); !errors.Is(err, ErrConflict) {
			t.Fatalf("a call from an expired invitation: %v", err)
		}

		// A new invitation, accepted by its visitor only, starts a call.
		later := now.Add(2 * time.Minute)
		inv, err = s.CreateInvite(ctx, conv, f.ana.ID, InvitePending, false, later, later.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnswerInvite(ctx, inv.ID, "v2", true, later, later.Add(time.Minute)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another visitor's answer: %v", err)
		}
		if inv, err = s.AnswerInvite(ctx, inv.ID, "v1", true, later, later.Add(2*time.Minute)); err != nil || inv.State != InviteAccepted {
			t.Fatalf("accept: %+v %v", inv, err)
		}
		c, used, err := s.CreateInvitedCall(ctx, conv, "v1", inv.ID, later.Add(time.Minute))
		if err != nil || used.State != InviteUsed || c.State != CallQueued {
			t.Fatalf("invited call: %+v %+v %v", c, used, err)
		}
		if _, err := s.CreateInvite(ctx, conv, f.ana.ID, InvitePending, false, later, later.Add(time.Minute)); !errors.Is(err, ErrConflict) {
			t.Fatalf("an invitation while a call is under way: %v", err)
		}
	})
}
