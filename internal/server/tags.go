package server

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/parley/parley/internal/store"
)

// Tags on conversations (docs/api.md, "Desk"): an agent who may read a conversation tags it, and every desk sees
// the tags in the conversation's summary.

// tagPattern: letters and digits, then also spaces, "-" and "_"; 1 to 32 characters.
var tagPattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} _-]{0,31}$`)

// cleanTag lowercases a tag and collapses its spaces; ok is false when it is not a tag.
func cleanTag(raw string) (string, bool) {
	tag := strings.Join(strings.Fields(strings.ToLower(raw)), " ")
	return tag, tagPattern.MatchString(tag)
}

// popularTagsSince is how far back the desk's suggestions look.
const popularTagsSince = 90 * 24 * time.Hour

func (s *Server) tagConversation(w http.ResponseWriter, r *http.Request, se session) {
	s.changeTag(w, r, func(id, tag string) ([]string, error) {
		return s.store.TagConversation(r.Context(), id, se.Account.ID, tag, s.now())
	})
}

func (s *Server) untagConversation(w http.ResponseWriter, r *http.Request, se session) {
	s.changeTag(w, r, func(id, tag string) ([]string, error) {
		return s.store.UntagConversation(r.Context(), id, se.Account.ID, tag)
	})
}

func (s *Server) changeTag(w http.ResponseWriter, r *http.Request, change func(id, tag string) ([]string, error)) {
	tag, ok := cleanTag(r.PathValue("tag"))
	if !ok {
		writeFieldErrors(w, map[string]string{"tag": "1 to 32 letters, digits, spaces, \"-\" or \"_\", starting with a letter or a digit"})
		return
	}
	id := r.PathValue("id")
	tags, err := change(id, tag)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "conversation_not_found", "no such conversation")
	case errors.Is(err, store.ErrTooManyTags):
		writeError(w, http.StatusConflict, "too_many_tags", "a conversation has at most 10 tags")
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.notifier.Summary(r.Context(), id) // every desk shows the new tags
		writeJSON(w, http.StatusOK, map[string]any{"tags": tags})
	}
}

// popularTags serves the desk's suggestions: the tags most used lately.
func (s *Server) popularTags(w http.ResponseWriter, r *http.Request, _ session) {
	list, err := s.store.PopularTags(r.Context(), s.now().Add(-popularTagsSince), 50)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	type tagCount struct {
		Tag   string `json:"tag"`
		Count int    `json:"count"`
	}
	out := make([]tagCount, len(list))
	for i, t := range list {
		out[i] = tagCount{Tag: t.Tag, Count: t.Count}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tags": out})
}
