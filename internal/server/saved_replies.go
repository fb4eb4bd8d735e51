package server

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/parley/parley/internal/store"
)

// savedReplyJSON is SAVED_REPLY in docs/api.md.
type savedReplyJSON struct {
	ID       string `json:"id"`
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
}

func viewSavedReplies(rs []store.SavedReply) []savedReplyJSON {
	out := make([]savedReplyJSON, len(rs))
	for i, r := range rs {
		out[i] = savedReplyJSON{ID: r.ID, Shortcut: r.Shortcut, Body: r.Body}
	}
	return out
}

// A shortcut: lowercase letters, digits, "-" and "_", starting with a letter or a digit.
var shortcutPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// maxSavedReply is the longest saved reply, as a chat message (realtime.max_message_chars by default).
const maxSavedReply = 4000

type savedReplyInput struct {
	Shortcut *string `json:"shortcut"`
	Body     *string `json:"body"`
}

// apply validates in onto r: a shortcut is taken without a leading "/" and in lowercase.
func (in savedReplyInput) apply(r *store.SavedReply, creating bool) map[string]string {
	bad := map[string]string{}
	if creating || in.Shortcut != nil {
		sc := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(deref(in.Shortcut)), "/"))
		if !shortcutPattern.MatchString(sc) {
			bad["shortcut"] = "1 to 32 letters, digits, \"-\" or \"_\" (no spaces), starting with a letter or a digit"
		}
		r.Shortcut = sc
	}
	if creating || in.Body != nil {
		b := strings.TrimSpace(deref(in.Body))
		if b == "" || utf8.RuneCountInString(b) > maxSavedReply {
			bad["body"] = "a text of 1 to 4000 characters is required"
		}
		r.Body = b
	}
	return bad
}

// listSavedReplies serves the admin and the desks (the desk inserts them in its reply box).
func (s *Server) listSavedReplies(w http.ResponseWriter, r *http.Request, _ session) {
	rs, err := s.store.SavedReplies(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"saved_replies": viewSavedReplies(rs)})
}

func (s *Server) createSavedReply(w http.ResponseWriter, r *http.Request, _ session) {
	var in savedReplyInput
	if !decodeBody(w, r, &in) {
		return
	}
	var sr store.SavedReply
	if bad := in.apply(&sr, true); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	sr, err := s.store.CreateSavedReply(r.Context(), sr.Shortcut, sr.Body, s.now())
	s.answerSavedReply(w, r, sr, err, http.StatusCreated)
}

func (s *Server) updateSavedReply(w http.ResponseWriter, r *http.Request, _ session) {
	var in savedReplyInput
	if !decodeBody(w, r, &in) {
		return
	}
	sr, ok := found(s, w, r, "saved reply", s.store.SavedReply)
	if !ok {
		return
	}
	if bad := in.apply(&sr, false); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	sr, err := s.store.UpdateSavedReply(r.Context(), sr, s.now())
	s.answerSavedReply(w, r, sr, err, http.StatusOK)
}

func (s *Server) answerSavedReply(w http.ResponseWriter, r *http.Request, sr store.SavedReply, err error, status int) {
	switch {
	case errors.Is(err, store.ErrConflict):
		writeFieldErrors(w, map[string]string{"shortcut": "another saved reply has this shortcut"})
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such saved reply")
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, status, savedReplyJSON{ID: sr.ID, Shortcut: sr.Shortcut, Body: sr.Body})
	}
}

func (s *Server) deleteSavedReply(w http.ResponseWriter, r *http.Request, _ session) {
	err := s.store.DeleteSavedReply(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such saved reply")
	case err != nil:
		s.internalError(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
