package store

import (
	"context"
	"database/sql"
	"time"
)

// ExportRow is one conversation as the admin's export lists it.
type ExportRow struct {
	ID, SiteName, VisitorID, AgentName, Status string
	CreatedAt, ClosedAt                        time.Time // ClosedAt is zero while open
	ContactEmail                               string
	Messages                                   int
	FirstMessage                               string // the visitor's first message
	RatingScore                                int    // 0: not rated
	RatingComment                              string
	VisitorName, VisitorEmail                  string // who the website said the visitor is ("" when it didn't)
	Tags                                       string // the agents' tags, comma-separated, in order
}

// ExportLimit is the most conversations one export holds.
const ExportLimit = 100000

// ExportConversations lists the conversations opened in [from, to), oldest first, at most ExportLimit.
func (s *Store) ExportConversations(ctx context.Context, from, to time.Time) ([]ExportRow, error) {
	rows, err := s.q().query(ctx, `SELECT c.id, s.name, c.visitor_id, COALESCE(a.name, ''), c.status, c.created_at, c.closed_at,
		c.contact_email,
		(SELECT COUNT(*) FROM events e WHERE e.conversation_id = c.id AND e.type = 'message'),
		COALESCE((SELECT e.body FROM events e WHERE e.conversation_id = c.id AND e.type = 'message' AND e.author = 'visitor' ORDER BY e.seq LIMIT 1), ''),
		COALESCE(r.score, 0), COALESCE(r.comment, ''), COALESCE(vi.name, ''), COALESCE(vi.email, ''),
		COALESCE((SELECT string_agg(t.tag, ',' ORDER BY t.tag) FROM conversation_tags t WHERE t.conversation_id = c.id), '')
		FROM conversations c JOIN sites s ON s.id = c.site_id LEFT JOIN accounts a ON a.id = c.agent_id
		LEFT JOIN conversation_ratings r ON r.conversation_id = c.id
		LEFT JOIN visitor_identities vi ON vi.site_id = c.site_id AND vi.visitor_id = c.visitor_id
		WHERE c.created_at >= ? AND c.created_at < ? ORDER BY c.created_at, c.id LIMIT ?`, ms(from), ms(to), ExportLimit)
	return scanAll(rows, err, func(rows interface{ Scan(...any) error }) (ExportRow, error) {
		var x ExportRow
		var created int64
		var closed sql.NullInt64
		err := rows.Scan(&x.ID, &x.SiteName, &x.VisitorID, &x.AgentName, &x.Status, &created, &closed, &x.ContactEmail,
			&x.Messages, &x.FirstMessage, &x.RatingScore, &x.RatingComment, &x.VisitorName, &x.VisitorEmail, &x.Tags)
		x.CreatedAt = fromMS(created)
		if closed.Valid {
			x.ClosedAt = fromMS(closed.Int64)
		}
		return x, err
	})
}
