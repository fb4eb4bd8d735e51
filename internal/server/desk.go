package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

func (s *Server) deskConversations(w http.ResponseWriter, r *http.Request, se session) {
	list, err := s.store.DeskConversations(r.Context(), se.Account.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]notify.SummaryView, 0, len(list))
	for _, sm := range list {
		out = append(out, notify.ViewSummary(sm))
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
}

func (s *Server) deskEvents(w http.ResponseWriter, r *http.Request, se session) {
	after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if err != nil || after < 0 {
		after = 0
	}
	sm, err := s.store.ConversationSummary(r.Context(), r.PathValue("id"))
	if err == nil && !s.store.AgentCanSee(r.Context(), sm.Conversation, se.Account.ID) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "conversation_not_found", "no such conversation")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
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
