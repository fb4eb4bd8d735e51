package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Rating is a visitor's rating of a conversation that ended: a score from 1 to 5 and an optional comment.
type Rating struct {
	ConversationID string
	Score          int
	Comment        string
	AgentID        string // the conversation's agent, "" when none ever had it
	GroupID        string // the site's routing group when it was rated
	CreatedAt      time.Time
}

// RatingWindow is how long after its end a conversation may still be rated.
const RatingWindow = 7 * 24 * time.Hour

// Errors of a rating.
var (
	ErrRated      = errors.New("store: the conversation is already rated")
	ErrNotRatable = errors.New("store: the conversation can't be rated: it has not ended, or it ended too long ago")
)

// RateConversation keeps the visitor's rating of their conversation, once it has ended and for RatingWindow after.
// Another visitor's conversation is ErrNotFound; one still open or ended too long ago ErrNotRatable; a second
// rating ErrRated. The caller checks the score and the comment.
func (s *Store) RateConversation(ctx context.Context, convID, visitorID string, score int, comment string, now time.Time) (Rating, error) {
	var r Rating
	err := s.inTx(ctx, func(tx q) error {
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", convID))
		if err != nil {
			return err
		}
		if c.VisitorID != visitorID {
			return ErrNotFound
		}
		if c.Status != StatusClosed || now.Sub(c.ClosedAt) > RatingWindow {
			return ErrNotRatable
		}
		var n int
		if err := tx.row(ctx, "SELECT COUNT(*) FROM conversation_ratings WHERE conversation_id = ?", convID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrRated
		}
		var group sql.NullString
		if err := tx.row(ctx, "SELECT group_id FROM sites WHERE id = ?", c.SiteID).Scan(&group); err != nil {
			return notFound(err)
		}
		r = Rating{ConversationID: convID, Score: score, Comment: comment, AgentID: c.AgentID, GroupID: group.String, CreatedAt: now}
		_, err = tx.exec(ctx, "INSERT INTO conversation_ratings (conversation_id, score, comment, agent_id, group_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
			convID, score, comment, nullable(c.AgentID), nullable(group.String), ms(now))
		return err
	})
	return r, err
}

// RatingStats are a group's ratings since a time: how many, and their average score (0 when none).
type RatingStats struct {
	Count   int
	Average float64
}

// GroupRatings sums up the ratings of a group's conversations given since since.
func (s *Store) GroupRatings(ctx context.Context, groupID string, since time.Time) (RatingStats, error) {
	var st RatingStats
	var avg sql.NullFloat64
	err := s.q().row(ctx, "SELECT COUNT(*), AVG(score) FROM conversation_ratings WHERE group_id = ? AND created_at >= ?",
		groupID, ms(since)).Scan(&st.Count, &avg)
	st.Average = avg.Float64
	return st, err
}
