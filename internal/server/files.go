package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// Files sent in a chat: the body of the POST is the file itself, its name is the "name" parameter, and
// "client_msg_id" makes a retry store it once. The answer is the message event that carries it
// (docs/api.md, "Files in a chat").

// maxClientMsgID is the longest client_msg_id accepted with a file.
const maxClientMsgID = 64

// visitorFor checks the visitor token of a widget request (Authorization: Bearer) for site. It writes the error
// answer itself when it returns false.
func (s *Server) visitorFor(w http.ResponseWriter, r *http.Request, site store.Site) (chat.Visitor, bool) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		writeError(w, http.StatusUnauthorized, "token_invalid", "send the visitor token as Authorization: Bearer")
		return chat.Visitor{}, false
	}
	id, err := s.signer.Verify(token, site.ID, s.now())
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		writeError(w, http.StatusUnauthorized, "token_expired", "the visitor token has expired")
		return chat.Visitor{}, false
	case err != nil:
		writeError(w, http.StatusUnauthorized, "token_invalid", "the visitor token is not valid")
		return chat.Visitor{}, false
	}
	return chat.Visitor{ID: id, SiteID: site.ID, Lang: r.URL.Query().Get("lang")}, true
}

// readFile reads an uploaded file's parameters and body. It writes the error answer itself when it returns false.
func (s *Server) readFile(w http.ResponseWriter, r *http.Request) (name, clientMsgID string, content []byte, ok bool) {
	q := r.URL.Query()
	name, clientMsgID = q.Get("name"), q.Get("client_msg_id")
	if len(clientMsgID) > maxClientMsgID {
		writeError(w, http.StatusBadRequest, "bad_request", "client_msg_id is too long")
		return "", "", nil, false
	}
	max := s.chat.MaxFile()
	if max <= 0 {
		writeError(w, http.StatusForbidden, "files_disabled", "this server takes no files")
		return "", "", nil, false
	}
	if r.ContentLength > int64(max) {
		writeError(w, http.StatusRequestEntityTooLarge, "file_too_large", "the file is larger than "+strconv.Itoa(max)+" bytes")
		return "", "", nil, false
	}
	content, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(max)))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "file_too_large", "the file is larger than "+strconv.Itoa(max)+" bytes")
		return "", "", nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad_request", "the file could not be read")
		return "", "", nil, false
	}
	return name, clientMsgID, content, true
}

// fileLimited answers 429 when the sender has sent too many files lately.
func (s *Server) fileLimited(w http.ResponseWriter, senderID, siteID string) bool {
	ok, wait := s.hub.AllowFile(senderID, siteID)
	if ok {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	writeError(w, http.StatusTooManyRequests, "rate_limited", "too many files; try again shortly")
	return true
}

// sentFile answers a file upload with the message event that carries it, or the error.
func (s *Server) sentFile(w http.ResponseWriter, r *http.Request, res store.Appended, err error) {
	switch {
	case errors.Is(err, chat.ErrFileEmpty):
		writeError(w, http.StatusBadRequest, "file_empty", "the file is empty")
	case errors.Is(err, chat.ErrFileTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "file_too_large", "the file is too large")
	case errors.Is(err, chat.ErrFilesOff):
		writeError(w, http.StatusForbidden, "files_disabled", "this server takes no files")
	case errors.Is(err, chat.ErrNotFound):
		writeError(w, http.StatusNotFound, "conversation_not_found", "no such conversation")
	case errors.Is(err, chat.ErrClosed):
		writeError(w, http.StatusConflict, "conversation_closed", "the conversation has ended")
	case err != nil:
		s.internalError(w, r, err)
	default:
		status := http.StatusCreated
		if res.Duplicate {
			status = http.StatusOK
		}
		writeJSON(w, status, map[string]any{"event": notify.ViewEvent(res.Last())})
	}
}

// widgetSendFile stores a file a visitor sends (POST /api/widget/files?site=&conversation_id=&name=&client_msg_id=).
func (s *Server) widgetSendFile(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFor(w, r, r.URL.Query().Get("site"))
	if !ok {
		return
	}
	allowCORS(w, r)
	v, ok := s.visitorFor(w, r, site)
	if !ok || s.fileLimited(w, v.ID, site.ID) {
		return
	}
	name, clientMsgID, content, ok := s.readFile(w, r)
	if !ok {
		return
	}
	res, err := s.chat.VisitorFile(r.Context(), v, r.URL.Query().Get("conversation_id"), clientMsgID, name, content, s.now())
	s.sentFile(w, r, res, err)
}

// widgetFile serves a file of the visitor's own conversations (GET /api/widget/files/{id}?site=).
func (s *Server) widgetFile(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFor(w, r, r.URL.Query().Get("site"))
	if !ok {
		return
	}
	allowCORS(w, r)
	v, ok := s.visitorFor(w, r, site)
	if !ok {
		return
	}
	a, content, err := s.chat.VisitorAttachment(r.Context(), v, r.PathValue("id"))
	s.serveAttachment(w, r, a, content, err)
}

// deskSendFile stores a file an agent sends in a conversation assigned to them
// (POST /api/desk/conversations/{id}/files?name=&client_msg_id=).
func (s *Server) deskSendFile(w http.ResponseWriter, r *http.Request, se session) {
	if s.fileLimited(w, se.Account.ID, "") {
		return
	}
	name, clientMsgID, content, ok := s.readFile(w, r)
	if !ok {
		return
	}
	res, err := s.chat.AgentFile(r.Context(), chat.Agent{ID: se.Account.ID, Name: se.Account.Name}, r.PathValue("id"),
		clientMsgID, name, content, s.now())
	s.sentFile(w, r, res, err)
}

// deskFile serves a file of a conversation the agent may read (GET /api/desk/files/{id}).
func (s *Server) deskFile(w http.ResponseWriter, r *http.Request, se session) {
	a, content, err := s.chat.AgentAttachment(r.Context(), chat.Agent{ID: se.Account.ID, Name: se.Account.Name}, r.PathValue("id"))
	s.serveAttachment(w, r, a, content, err)
}

// serveAttachment sends a stored file. Only the image types a browser shows as pictures go out with their own
// type; anything else goes out as a download of bytes, and nothing is sniffed, run or framed, whatever it holds.
func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request, a store.Attachment, content []byte, err error) {
	switch {
	case errors.Is(err, chat.ErrNotFound):
		writeError(w, http.StatusNotFound, "file_not_found", "no such file")
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	h := w.Header()
	disposition := "attachment"
	if chat.InlineImage(a.ContentType) {
		h.Set("Content-Type", a.ContentType)
		disposition = "inline"
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": a.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(content)
	}
}
