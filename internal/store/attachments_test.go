package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// Files sent in a chat: stored with the message that carries them, in the same transaction; the event's data
// names the file; its content comes back byte for byte with the conversation it belongs to; a retry stores it once.
func TestAttachments(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		f := seed(t, s)
		now := time.UnixMilli(1_800_000_000_000)
		content := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 255}, 5000)...)

		// The visitor's first message is a file: it opens the conversation.
		m := visitorMsg(f, "v1", "f1", "screenshot.png")
		m.File = &File{Name: "screenshot.png", ContentType: "image/png", Content: content}
		res, err := s.AppendVisitorMessage(ctx, m)
		if err != nil || !res.Created || len(res.Events) != 1 {
			t.Fatalf("the visitor's file: %+v %v", res, err)
		}
		var data struct {
			Attachment AttachmentView `json:"attachment"`
		}
		if err := json.Unmarshal([]byte(res.Events[0].Data), &data); err != nil || data.Attachment.ID == "" ||
			data.Attachment.Name != "screenshot.png" || data.Attachment.Type != "image/png" || data.Attachment.Size != int64(len(content)) {
			t.Fatalf("the event's data: %q %v", res.Events[0].Data, err)
		}
		a, got, c, err := s.AttachmentContent(ctx, data.Attachment.ID)
		if err != nil || !bytes.Equal(got, content) || c.ID != res.Conversation.ID || c.VisitorID != "v1" ||
			a.Name != "screenshot.png" || a.Size != int64(len(content)) {
			t.Fatalf("the stored file: %+v %d bytes %+v %v", a, len(got), c, err)
		}

		// Sent again (a retry after a lost answer): stored once.
		again, err := s.AppendVisitorMessage(ctx, m)
		if err != nil || !again.Duplicate || again.Events[0].Seq != res.Events[0].Seq {
			t.Fatalf("the same file again: %+v %v", again, err)
		}
		var n int
		if err := s.q().row(ctx, "SELECT COUNT(*) FROM attachments").Scan(&n); err != nil || n != 1 {
			t.Fatalf("files stored: %d %v", n, err)
		}

		// Ana's file, once the conversation is hers; the transcript holds both.
		if _, err := s.Claim(ctx, res.Conversation.ID, f.ana.ID, now); err != nil {
			t.Fatal(err)
		}
		pdf := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
		out, err := s.AppendAgentMessage(ctx, AgentMessage{AgentID: f.ana.ID, AgentName: "Ana", ConversationID: res.Conversation.ID,
			ClientMsgID: "a1", Body: "invoice.pdf", File: &File{Name: "invoice.pdf", ContentType: "application/pdf", Content: pdf}, At: now})
		if err != nil || out.Events[0].Data == "" {
			t.Fatalf("Ana's file: %+v %v", out, err)
		}
		// Ben may not send a file in Ana's conversation, and nothing is stored when he tries.
		if _, err := s.AppendAgentMessage(ctx, AgentMessage{AgentID: f.ben.ID, AgentName: "Ben", ConversationID: res.Conversation.ID,
			ClientMsgID: "b1", Body: "x.pdf", File: &File{Name: "x.pdf", ContentType: "application/pdf", Content: pdf}, At: now}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Ben's file in Ana's conversation: %v", err)
		}
		if err := s.q().row(ctx, "SELECT COUNT(*) FROM attachments").Scan(&n); err != nil || n != 2 {
			t.Fatalf("files stored: %d %v", n, err)
		}
		evs, err := s.Events(ctx, res.Conversation.ID, 0, 100)
		if err != nil || len(evs) < 2 || evs[len(evs)-1].Body != "invoice.pdf" {
			t.Fatalf("the transcript: %+v %v", evs, err)
		}
		if _, _, _, err := s.AttachmentContent(ctx, "at_nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("an unknown file: %v", err)
		}
	})
}
