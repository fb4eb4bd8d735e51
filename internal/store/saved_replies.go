package store

import (
	"context"
	"fmt"
	"time"
)

// SavedReply is a text the agents insert in their reply box by its shortcut.
type SavedReply struct {
	ID        string
	Shortcut  string
	Body      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const savedReplyCols = "id, shortcut, body, created_at, updated_at"

func scanSavedReply(sc interface{ Scan(...any) error }) (SavedReply, error) {
	var r SavedReply
	var created, updated int64
	err := sc.Scan(&r.ID, &r.Shortcut, &r.Body, &created, &updated)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, notFound(err)
}

// SavedReplies lists the saved replies by shortcut.
func (s *Store) SavedReplies(ctx context.Context) ([]SavedReply, error) {
	rows, err := s.q().query(ctx, "SELECT "+savedReplyCols+" FROM saved_replies ORDER BY shortcut")
	return scanAll(rows, err, func(rows interface{ Scan(...any) error }) (SavedReply, error) { return scanSavedReply(rows) })
}

// SavedReply returns one saved reply; an unknown id is ErrNotFound.
func (s *Store) SavedReply(ctx context.Context, id string) (SavedReply, error) {
	return scanSavedReply(s.q().row(ctx, "SELECT "+savedReplyCols+" FROM saved_replies WHERE id = ?", id))
}

// CreateSavedReply stores a new saved reply. A shortcut already taken is ErrConflict.
func (s *Store) CreateSavedReply(ctx context.Context, shortcut, body string, now time.Time) (SavedReply, error) {
	r := SavedReply{ID: NewID("sr"), Shortcut: shortcut, Body: body, CreatedAt: now, UpdatedAt: now}
	_, err := s.q().exec(ctx, "INSERT INTO saved_replies ("+savedReplyCols+") VALUES (?, ?, ?, ?, ?)", r.ID, r.Shortcut, r.Body, ms(now), ms(now))
	if isUnique(err) {
		return SavedReply{}, fmt.Errorf("shortcut %q is taken: %w", shortcut, ErrConflict)
	}
	return r, err
}

// UpdateSavedReply changes a saved reply's shortcut and text. An unknown id is ErrNotFound, a shortcut another
// reply has ErrConflict.
func (s *Store) UpdateSavedReply(ctx context.Context, r SavedReply, now time.Time) (SavedReply, error) {
	res, err := s.q().exec(ctx, "UPDATE saved_replies SET shortcut = ?, body = ?, updated_at = ? WHERE id = ?", r.Shortcut, r.Body, ms(now), r.ID)
	if isUnique(err) {
		return SavedReply{}, fmt.Errorf("shortcut %q is taken: %w", r.Shortcut, ErrConflict)
	}
	if err != nil {
		return SavedReply{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return SavedReply{}, ErrNotFound
	}
	r.UpdatedAt = now
	return r, nil
}

// DeleteSavedReply removes a saved reply; an unknown id is ErrNotFound.
func (s *Store) DeleteSavedReply(ctx context.Context, id string) error {
	res, err := s.q().exec(ctx, "DELETE FROM saved_replies WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
