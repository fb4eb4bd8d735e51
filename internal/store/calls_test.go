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
