package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

func (s *Server) deskConversations(w http.ResponseWriter, r *http.Request, se session) {
	list, err := s.store.DeskConversations(r.Context(), se.Account.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": viewSummaries(list)})
}

func (s *Server) deskEvents(w http.ResponseWriter, r *http.Request, se session) {
	after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if err != nil || after < 0 {
		after = 0
	}
	sm, ok := s.deskConversation(w, r, se)
	if !ok {
		return
	}
	evs, err := s.store.Events(r.Context(), sm.ID, after, 10000)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	notes, err := s.store.Notes(r.Context(), sm.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation": notify.ViewSummary(sm), "events": notify.ViewEvents(evs),
		"notes": notify.ViewNotes(notes)})
}

// deskSearch finds the conversations the agent may read whose messages, notes or left e-mail address contain q.
func (s *Server) deskSearch(w http.ResponseWriter, r *http.Request, se session) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if n := utf8.RuneCountInString(q); n < 2 || n > 100 {
		writeFieldErrors(w, map[string]string{"q": "2 to 100 characters to look for"})
		return
	}
	list, err := s.store.SearchConversations(r.Context(), se.Account.ID, q)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": viewSummaries(list)})
}

// deskConversation reads the path's conversation for the agent: 404 when it doesn't exist or the agent may not see
// it (store.AgentCanSee). ok is false when the answer is written.
func (s *Server) deskConversation(w http.ResponseWriter, r *http.Request, se session) (store.Summary, bool) {
	sm, err := s.store.ConversationSummary(r.Context(), r.PathValue("id"))
	if err == nil && !s.store.AgentCanSee(r.Context(), sm.Conversation, se.Account.ID) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "conversation_not_found", "no such conversation")
		return sm, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return sm, false
	}
	return sm, true
}

// deskHistory lists the visitor's earlier conversations on the site, for an agent who may read this one.
func (s *Server) deskHistory(w http.ResponseWriter, r *http.Request, se session) {
	sm, ok := s.deskConversation(w, r, se)
	if !ok {
		return
	}
	list, err := s.store.VisitorHistory(r.Context(), sm.Conversation)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": viewSummaries(list)})
}

func (s *Server) deskSocket(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		writeError(w, http.StatusForbidden, "origin_not_allowed", "the desk connects from Parley's own pages only")
		return
	}
	se, ok := s.authenticate(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "log in first")
		return
	}
	s.hub.ServeDesk(w, r, se.Account, se.ID)
}

// viewSummaries converts conversations for the desk.
func viewSummaries(list []store.Summary) []notify.SummaryView {
	out := make([]notify.SummaryView, len(list))
	for i, sm := range list {
		out[i] = notify.ViewSummary(sm)
	}
	return out
}
