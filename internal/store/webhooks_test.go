package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Webhooks to a company's systems: stored, listed, changed and deleted; one names a site that exists, or none
// (every site); Wants says which events of which site it sends.
func TestWebhooks(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		now := time.UnixMilli(1_800_000_000_000)
		w, err := s.CreateWebhook(ctx, Webhook{URL: "https://crm.test/parley", Secret: "k1", SiteID: f.site.ID,
			Events: []string{EventMessage, EventEnded}, Enabled: true}, now)
		if err != nil || w.ID == "" {
			t.Fatalf("create: %+v %v", w, err)
		}
		if _, err := s.CreateWebhook(ctx, Webhook{URL: "https://x.test", Secret: "k", SiteID: "st_nope", Events: []string{EventMessage}}, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a webhook on an unknown site: %v", err)
		}
		if err := s.RecordWebhookDelivery(ctx, w.ID, "webhook: status 500", now.Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordWebhookDelivery(ctx, w.ID, WebhookOK, now.Add(time.Second)); err != nil { // ended earlier
			t.Fatal(err)
		}
		got, err := s.Webhook(ctx, w.ID)
		if err != nil || got.URL != w.URL || got.Secret != "k1" || len(got.Events) != 2 || !got.Enabled ||
			got.LastResult != "webhook: status 500" || !got.LastAt.Equal(now.Add(2*time.Second)) {
			t.Fatalf("read: %+v %v", got, err)
		}
		if !got.Wants(f.site.ID, EventMessage) || got.Wants(f.site.ID, EventAssigned) || got.Wants("st_other", EventMessage) {
			t.Fatal("Wants: the site's messages only")
		}
		got.SiteID, got.Events, got.Enabled = "", []string{EventAssigned}, false
		if _, err := s.UpdateWebhook(ctx, got, now.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		list, err := s.Webhooks(ctx)
		if err != nil || len(list) != 1 || list[0].SiteID != "" || list[0].Events[0] != EventAssigned || list[0].Wants("st_other", EventAssigned) {
			t.Fatalf("after the update: %+v %v", list, err)
		}
		list[0].Enabled = true
		if !list[0].Wants("st_other", EventAssigned) {
			t.Fatal("a webhook of every site sends every site's events")
		}
		if err := s.DeleteWebhook(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteWebhook(ctx, w.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete again: %v", err)
		}
		if _, err := s.UpdateWebhook(ctx, got, now); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update a deleted one: %v", err)
		}
	})
}
