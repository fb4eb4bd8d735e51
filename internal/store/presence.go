package store

import (
	"context"
	"fmt"
	"time"
)

// TouchDeskConnection records that a desk socket is alive at now, creating its row on first use.
func (s *Store) TouchDeskConnection(ctx context.Context, connID, accountID, nodeID string, now time.Time) error {
	_, err := s.q().exec(ctx, `INSERT INTO desk_connections (conn_id, account_id, node_id, seen_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (conn_id) DO UPDATE SET seen_at = excluded.seen_at`, connID, accountID, nodeID, ms(now))
	if err != nil {
		return fmt.Errorf("store: touch desk connection: %w", err)
	}
	return nil
}

// CloseDeskConnection records that a desk socket closed at now. The agent keeps their presence for the grace
// period after it, so a reload or a brief network loss doesn't take them offline.
func (s *Store) CloseDeskConnection(ctx context.Context, connID string, now time.Time) error {
	_, err := s.q().exec(ctx, "UPDATE desk_connections SET closed = TRUE, seen_at = ? WHERE conn_id = ?", ms(now), connID)
	return err
}

// DropStaleDeskConnections forgets sockets not seen since before: closed ones past their grace period, and those
// left by a node that stopped without cleaning up.
func (s *Store) DropStaleDeskConnections(ctx context.Context, before time.Time) error {
	_, err := s.q().exec(ctx, "DELETE FROM desk_connections WHERE seen_at < ?", ms(before))
	return err
}
