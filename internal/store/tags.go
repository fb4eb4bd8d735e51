package store

import (
	"context"
	"errors"
	"time"
)

// MaxTags is how many tags one conversation may have.
const MaxTags = 10

// ErrTooManyTags is a tag over MaxTags on one conversation.
var ErrTooManyTags = errors.New("store: the conversation has as many tags as it may")

// TagCount is a tag and how many conversations have it.
type TagCount struct {
	Tag   string
	Count int
}

// TagConversation puts tag on conversation convID (a tag it has already is kept once), for an agent who may read
// it (AgentCanSee: else ErrNotFound), and returns the conversation's tags. The tag is taken as given: the caller
// cleans it.
func (s *Store) TagConversation(ctx context.Context, convID, agentID, tag string, now time.Time) ([]string, error) {
	if err := s.tagAccess(ctx, convID, agentID); err != nil {
		return nil, err
	}
	err := s.inTx(ctx, func(tx q) error {
		var have, same int
		if err := tx.row(ctx, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN tag = ? THEN 1 ELSE 0 END), 0) FROM conversation_tags WHERE conversation_id = ?",
			tag, convID).Scan(&have, &same); err != nil {
			return err
		}
		if same > 0 {
			return nil
		}
		if have >= MaxTags {
			return ErrTooManyTags
		}
		_, err := tx.exec(ctx, "INSERT INTO conversation_tags (conversation_id, tag, author_id, created_at) VALUES (?, ?, ?, ?)",
			convID, tag, agentID, ms(now))
		if isUnique(err) {
			return nil // a colleague tagged it the same at the same time
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Tags(ctx, convID)
}

// UntagConversation takes tag off conversation convID, for an agent who may read it (else ErrNotFound), and
// returns the conversation's tags. A tag it doesn't have changes nothing.
func (s *Store) UntagConversation(ctx context.Context, convID, agentID, tag string) ([]string, error) {
	if err := s.tagAccess(ctx, convID, agentID); err != nil {
		return nil, err
	}
	if _, err := s.q().exec(ctx, "DELETE FROM conversation_tags WHERE conversation_id = ? AND tag = ?", convID, tag); err != nil {
		return nil, err
	}
	return s.Tags(ctx, convID)
}

func (s *Store) tagAccess(ctx context.Context, convID, agentID string) error {
	c, err := scanConv(s.q().row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", convID))
	if err != nil {
		return err
	}
	if !s.AgentCanSee(ctx, c, agentID) {
		return ErrNotFound
	}
	return nil
}

// Tags returns a conversation's tags, in alphabetical order.
func (s *Store) Tags(ctx context.Context, convID string) ([]string, error) {
	rows, err := s.q().query(ctx, "SELECT tag FROM conversation_tags WHERE conversation_id = ? ORDER BY tag", convID)
	out, err := scanAll(rows, err, func(rows interface{ Scan(...any) error }) (string, error) {
		var t string
		return t, rows.Scan(&t)
	})
	if out == nil {
		out = []string{}
	}
	return out, err
}

// PopularTags returns the tags put on conversations since since, the most used first (at most limit), for the
// desk's suggestions.
func (s *Store) PopularTags(ctx context.Context, since time.Time, limit int) ([]TagCount, error) {
	rows, err := s.q().query(ctx, `SELECT tag, COUNT(*) AS n FROM conversation_tags WHERE created_at >= ?
		GROUP BY tag ORDER BY n DESC, tag LIMIT ?`, ms(since), limit)
	return scanAll(rows, err, func(rows interface{ Scan(...any) error }) (TagCount, error) {
		var t TagCount
		return t, rows.Scan(&t.Tag, &t.Count)
	})
}
