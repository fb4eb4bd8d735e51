package store

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Webhook sends conversation events to a company's own system: those of one site (SiteID, "" for every site)
// whose type is in Events, posted to URL and signed with Secret.
type Webhook struct {
	ID        string
	URL       string
	Secret    string
	SiteID    string
	Events    []string
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// LastResult is how the last delivery ended ("" before any: WebhookOK, or the error), at LastAt.
	LastResult string
	LastAt     time.Time
}

// WebhookOK is the LastResult of a delivery its receiver took.
const WebhookOK = "ok"

// Wants reports whether the webhook sends an event of type typ on site siteID.
func (w Webhook) Wants(siteID, typ string) bool {
	return w.Enabled && (w.SiteID == "" || w.SiteID == siteID) && slices.Contains(w.Events, typ)
}

const webhookCols = "id, url, secret, site_id, events, enabled, created_at, updated_at"

// webhookRead is webhookCols and the last delivery's result.
const webhookRead = webhookCols + ", last_result, last_at"

func scanWebhook(sc interface{ Scan(...any) error }) (Webhook, error) {
	var w Webhook
	var events string
	var created, updated, lastAt int64
	err := sc.Scan(&w.ID, &w.URL, &w.Secret, &w.SiteID, &events, &w.Enabled, &created, &updated, &w.LastResult, &lastAt)
	if lastAt > 0 {
		w.LastAt = fromMS(lastAt)
	}
	if events != "" {
		w.Events = strings.Split(events, ",")
	}
	w.CreatedAt, w.UpdatedAt = fromMS(created), fromMS(updated)
	return w, notFound(err)
}

// Webhooks lists the webhooks, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.q().query(ctx, "SELECT "+webhookRead+" FROM webhooks ORDER BY created_at, id")
	return scanAll(rows, err, func(rows interface{ Scan(...any) error }) (Webhook, error) { return scanWebhook(rows) })
}

// Webhook returns one webhook; an unknown id is ErrNotFound.
func (s *Store) Webhook(ctx context.Context, id string) (Webhook, error) {
	return scanWebhook(s.q().row(ctx, "SELECT "+webhookRead+" FROM webhooks WHERE id = ?", id))
}

// CreateWebhook stores a new webhook. A site that doesn't exist is ErrNotFound.
func (s *Store) CreateWebhook(ctx context.Context, w Webhook, now time.Time) (Webhook, error) {
	if w.SiteID != "" {
		if _, err := s.Site(ctx, w.SiteID); err != nil {
			return Webhook{}, err
		}
	}
	w.ID, w.CreatedAt, w.UpdatedAt = NewID("wh"), now, now
	_, err := s.q().exec(ctx, "INSERT INTO webhooks ("+webhookCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		w.ID, w.URL, w.Secret, w.SiteID, strings.Join(w.Events, ","), w.Enabled, ms(now), ms(now))
	return w, err
}

// UpdateWebhook changes a webhook's URL, secret, site, events and whether it is on. An unknown webhook or site is
// ErrNotFound.
func (s *Store) UpdateWebhook(ctx context.Context, w Webhook, now time.Time) (Webhook, error) {
	if w.SiteID != "" {
		if _, err := s.Site(ctx, w.SiteID); err != nil {
			return Webhook{}, err
		}
	}
	res, err := s.q().exec(ctx, "UPDATE webhooks SET url = ?, secret = ?, site_id = ?, events = ?, enabled = ?, updated_at = ? WHERE id = ?",
		w.URL, w.Secret, w.SiteID, strings.Join(w.Events, ","), w.Enabled, ms(now), w.ID)
	if err != nil {
		return Webhook{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Webhook{}, ErrNotFound
	}
	w.UpdatedAt = now
	return w, nil
}

// RecordWebhookDelivery notes how a delivery of webhook id ended (WebhookOK, or the error). A delivery that ended
// before the one on record doesn't replace it.
func (s *Store) RecordWebhookDelivery(ctx context.Context, id, result string, at time.Time) error {
	if len(result) > 500 {
		result = result[:500]
	}
	_, err := s.q().exec(ctx, "UPDATE webhooks SET last_result = ?, last_at = ? WHERE id = ? AND last_at <= ?", result, ms(at), id, ms(at))
	return err
}

// DeleteWebhook removes a webhook; an unknown id is ErrNotFound.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	res, err := s.q().exec(ctx, "DELETE FROM webhooks WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
