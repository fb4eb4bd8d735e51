package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// IdentitySecret returns the key a site signs its signed-in visitors' e-mail addresses with, making one the first
// time it is asked for.
func (s *Store) IdentitySecret(ctx context.Context, siteID string) (string, error) {
	var secret string
	if err := s.q().row(ctx, "SELECT identity_secret FROM sites WHERE id = ?", siteID).Scan(&secret); err != nil || secret != "" {
		return secret, notFound(err)
	}
	// The first time: make one. Two callers at once both write; the first write wins, and both read it back.
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	if _, err := s.q().exec(ctx, "UPDATE sites SET identity_secret = ? WHERE id = ? AND identity_secret = ''", hex.EncodeToString(b), siteID); err != nil {
		return "", err
	}
	err := s.q().row(ctx, "SELECT identity_secret FROM sites WHERE id = ?", siteID).Scan(&secret)
	return secret, notFound(err)
}

// SetVisitorIdentity keeps who a site's visitor is (the caller has checked the site's signature).
func (s *Store) SetVisitorIdentity(ctx context.Context, siteID, visitorID, name, email string, now time.Time) error {
	_, err := s.q().exec(ctx, `INSERT INTO visitor_identities (site_id, visitor_id, name, email, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (site_id, visitor_id) DO UPDATE SET name = excluded.name, email = excluded.email, updated_at = excluded.updated_at`,
		siteID, visitorID, name, email, ms(now))
	return err
}

// OpenConversationOf returns the visitor's open conversation on the site; ErrNotFound when they have none.
func (s *Store) OpenConversationOf(ctx context.Context, siteID, visitorID string) (Conversation, error) {
	return scanConv(s.q().row(ctx, "SELECT "+convCols+" FROM conversations WHERE site_id = ? AND visitor_id = ? AND status = ?",
		siteID, visitorID, StatusOpen))
}
