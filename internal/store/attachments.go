package store

import (
	"context"
	"encoding/json"
	"time"
)

// File is a file sent with a chat message: its name as the sender gave it (cleaned), its type as found in the
// content, and the content.
type File struct {
	Name        string
	ContentType string
	Content     []byte
}

// Attachment is a stored file, without its content.
type Attachment struct {
	ID             string
	ConversationID string
	Name           string
	ContentType    string
	Size           int64
	CreatedAt      time.Time
}

// AttachmentView is how a message event's data names its file (docs/protocol.md, "Attachments").
type AttachmentView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// insertAttachment stores f in conversation convID, in tx, and returns the data of the message event that
// carries it.
func insertAttachment(ctx context.Context, tx q, convID string, f *File, at time.Time) (string, error) {
	a := AttachmentView{ID: NewID("at"), Name: f.Name, Type: f.ContentType, Size: int64(len(f.Content))}
	if _, err := tx.exec(ctx, `INSERT INTO attachments (id, conversation_id, name, content_type, size, content, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, a.ID, convID, a.Name, a.Type, a.Size, f.Content, ms(at)); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]AttachmentView{"attachment": a})
	return string(b), err
}

// AttachmentContent returns a stored file, its content, and the conversation it was sent in (for the caller to
// check who may read it). An unknown id is ErrNotFound.
func (s *Store) AttachmentContent(ctx context.Context, id string) (Attachment, []byte, Conversation, error) {
	var a Attachment
	var content []byte
	var at int64
	err := s.q().row(ctx, `SELECT id, conversation_id, name, content_type, size, content, created_at
		FROM attachments WHERE id = ?`, id).Scan(&a.ID, &a.ConversationID, &a.Name, &a.ContentType, &a.Size, &content, &at)
	if err != nil {
		return Attachment{}, nil, Conversation{}, notFound(err)
	}
	a.CreatedAt = fromMS(at)
	c, err := scanConv(s.q().row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", a.ConversationID))
	if err != nil {
		return Attachment{}, nil, Conversation{}, err
	}
	return a, content, c, nil
}
