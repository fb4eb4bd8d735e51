package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Note is what an agent wrote on a conversation for the other agents. The visitor never sees it.
type Note struct {
	ID             string
	ConversationID string
	AuthorID       string
	AuthorName     string
	Body           string
	ClientNoteID   string
	CreatedAt      time.Time
}

const noteCols = "id, conversation_id, author_id, author_name, body, client_note_id, created_at"

func scanNote(sc interface{ Scan(...any) error }) (Note, error) {
	var n Note
	var at int64
	err := sc.Scan(&n.ID, &n.ConversationID, &n.AuthorID, &n.AuthorName, &n.Body, &n.ClientNoteID, &at)
	n.CreatedAt = fromMS(at)
	return n, notFound(err)
}

// AddNote stores an agent's note on an open conversation they can see: theirs, or one waiting in their groups
// (else ErrNotFound; a closed one is ErrClosed). A note sent again with the same clientNoteID is stored once:
// duplicate is then true and the note is the one stored first; the same id on another conversation is ErrConflict.
func (s *Store) AddNote(ctx context.Context, convID, agentID, agentName, clientNoteID, body string, now time.Time) (n Note, c Conversation, duplicate bool, err error) {
	err = s.inTx(ctx, func(tx q) error {
		duplicate = false
		if clientNoteID != "" {
			n, err = scanNote(tx.row(ctx, "SELECT "+noteCols+" FROM conversation_notes WHERE author_id = ? AND client_note_id = ?", agentID, clientNoteID))
			switch {
			case err == nil && n.ConversationID != convID:
				return fmt.Errorf("client_note_id reused in another conversation: %w", ErrConflict)
			case err == nil:
				duplicate = true
				c, err = scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", convID))
				return err
			case !errors.Is(err, ErrNotFound):
				return err
			}
		}
		c, err = scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", convID))
		if err != nil {
			return err
		}
		if c.AgentID != agentID && (c.AgentID != "" || !canSee(ctx, tx, c.SiteID, agentID)) {
			return ErrNotFound
		}
		if c.Status != StatusOpen {
			return ErrClosed
		}
		n = Note{ID: NewID("nt"), ConversationID: convID, AuthorID: agentID, AuthorName: agentName, Body: body,
			ClientNoteID: clientNoteID, CreatedAt: now}
		if n.ClientNoteID == "" {
			n.ClientNoteID = n.ID
		}
		_, err = tx.exec(ctx, "INSERT INTO conversation_notes ("+noteCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			n.ID, n.ConversationID, n.AuthorID, n.AuthorName, n.Body, n.ClientNoteID, ms(now))
		return err
	})
	return n, c, duplicate, err
}

// Notes returns a conversation's notes, oldest first.
func (s *Store) Notes(ctx context.Context, convID string) ([]Note, error) {
	rows, err := s.q().query(ctx, "SELECT "+noteCols+" FROM conversation_notes WHERE conversation_id = ? ORDER BY created_at, id", convID)
	return scanAll(rows, err, func(rows interface{ Scan(...any) error }) (Note, error) { return scanNote(rows) })
}
