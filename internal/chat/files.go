package chat

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley/parley/internal/store"
)

// Errors about files sent in a chat.
var (
	ErrFilesOff     = errors.New("chat: this server takes no files")
	ErrFileEmpty    = errors.New("chat: the file is empty")
	ErrFileTooLarge = errors.New("chat: the file is too large")
)

// maxFileName is the longest file name kept, in characters; a longer one is shortened, keeping its extension.
const maxFileName = 120

// MaxFile is the largest file accepted, in bytes (0: files are off).
func (s *Service) MaxFile() int { return s.maxFile }

// InlineImage reports whether a stored file of this type may be shown in the page as an image. Everything else
// is only ever downloaded: a browser never runs or renders what somebody uploaded.
func InlineImage(contentType string) bool {
	switch contentType {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// file checks a file someone sends and returns it as stored: its name cleaned, its type found from its content.
func (s *Service) file(name string, content []byte) (*store.File, error) {
	switch {
	case s.maxFile <= 0:
		return nil, ErrFilesOff
	case len(content) == 0:
		return nil, ErrFileEmpty
	case len(content) > s.maxFile:
		return nil, ErrFileTooLarge
	}
	return &store.File{Name: CleanFileName(name), ContentType: http.DetectContentType(content), Content: content}, nil
}

// CleanFileName keeps the last element of a path (browsers on Windows may send one), drops control and
// direction-changing characters (which can make "txt.exe" read as "exe.txt"), and shortens a long name while
// keeping its extension. An empty result is "file".
func CleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	if r := []rune(name); len(r) > maxFileName {
		ext := ""
		if i := strings.LastIndexByte(name, '.'); i > 0 && utf8.RuneCountInString(name[i:]) <= 16 {
			ext = name[i:]
		}
		name = string(r[:maxFileName-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// VisitorFile stores a file the visitor sends as a message, opening a conversation when they have none (as their
// first message would), and tells the desks. A file sent again with the same clientMsgID is stored once.
func (s *Service) VisitorFile(ctx context.Context, v Visitor, convID, clientMsgID, name string, content []byte, receivedAt time.Time) (store.Appended, error) {
	f, err := s.file(name, content)
	if err != nil {
		return store.Appended{}, err
	}
	return s.visitorMessage(ctx, v, store.VisitorMessage{ConversationID: convID, ClientMsgID: clientMsgID, Body: f.Name, File: f},
		"", receivedAt)
}

// AgentFile stores a file an agent sends in a conversation assigned to them, and tells both sides.
func (s *Service) AgentFile(ctx context.Context, a Agent, convID, clientMsgID, name string, content []byte, receivedAt time.Time) (store.Appended, error) {
	f, err := s.file(name, content)
	if err != nil {
		return store.Appended{}, err
	}
	return s.agentMessage(ctx, a, store.AgentMessage{ConversationID: convID, ClientMsgID: clientMsgID, Body: f.Name, File: f}, receivedAt)
}

// VisitorAttachment returns a stored file for the visitor who may read it: one sent in their own conversation on the
// site. Anything else is ErrNotFound, so an id alone reveals nothing.
func (s *Service) VisitorAttachment(ctx context.Context, v Visitor, id string) (store.Attachment, []byte, error) {
	a, content, c, err := s.store.AttachmentContent(ctx, id)
	if err != nil {
		return store.Attachment{}, nil, mapErr(err)
	}
	if c.SiteID != v.SiteID || c.VisitorID != v.ID {
		return store.Attachment{}, nil, ErrNotFound
	}
	return a, content, nil
}

// AgentAttachment returns a stored file for an agent who may read its conversation (store.AgentCanSee).
func (s *Service) AgentAttachment(ctx context.Context, a Agent, id string) (store.Attachment, []byte, error) {
	at, content, c, err := s.store.AttachmentContent(ctx, id)
	if err != nil {
		return store.Attachment{}, nil, mapErr(err)
	}
	if !s.store.AgentCanSee(ctx, c, a.ID) {
		return store.Attachment{}, nil, ErrNotFound
	}
	return at, content, nil
}
