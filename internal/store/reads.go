package store

import (
	"context"
)

// Readers of a conversation, for read receipts.
const (
	ReaderVisitor = "visitor"
	ReaderAgent   = "agent"
)

// MarkVisitorRead notes that the visitor (visitorID on site siteID) has seen conversation convID up to seq. It
// returns the conversation, and whether that moved their read seq forward (a seq it already passed, or beyond the
// last event, changes nothing). A conversation that isn't theirs is ErrNotFound.
func (s *Store) MarkVisitorRead(ctx context.Context, convID, siteID, visitorID string, seq int64) (Conversation, bool, error) {
	return s.markRead(ctx, "visitor_read_seq", "site_id = ? AND visitor_id = ?", convID, seq, siteID, visitorID)
}

// MarkAgentRead is MarkVisitorRead for the conversation's agent: a conversation not assigned to agentID is
// ErrNotFound.
func (s *Store) MarkAgentRead(ctx context.Context, convID, agentID string, seq int64) (Conversation, bool, error) {
	return s.markRead(ctx, "agent_read_seq", "agent_id = ?", convID, seq, agentID)
}

// markRead moves column (a read seq) of conversation convID forward to seq, where owner holds. column and owner
// are this file's constants, never input.
func (s *Store) markRead(ctx context.Context, column, owner, convID string, seq int64, ownerArgs ...any) (Conversation, bool, error) {
	args := append([]any{seq, convID}, ownerArgs...)
	args = append(args, seq, seq)
	res, err := s.q().exec(ctx, "UPDATE conversations SET "+column+" = ? WHERE id = ? AND "+owner+
		" AND "+column+" < ? AND last_seq >= ?", args...)
	if err != nil {
		return Conversation{}, false, err
	}
	changed, _ := res.RowsAffected()
	c, err := scanConv(s.q().row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ? AND "+owner, append([]any{convID}, ownerArgs...)...))
	return c, changed > 0, err
}
