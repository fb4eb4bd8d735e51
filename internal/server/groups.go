package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/internal/store"
)

// groupJSON is GROUP in docs/api.md.
type groupJSON struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	MemberIDs           []string `json:"member_ids"`
	Channels            []string `json:"channels"`
	QueuePlaces         int      `json:"queue_places"`
	OfferTimeoutSeconds int      `json:"offer_timeout_seconds"`
	MaxWaitSeconds      int      `json:"max_wait_seconds"`
	ChatMode            string   `json:"chat_mode"`
	MaxAttempts         int      `json:"max_attempts"`
	Selection           string   `json:"selection"`
	// Hours are the opening hours; null: always open.
	Hours *store.Hours `json:"hours"`
}

func viewGroup(g store.Group) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, MemberIDs: g.Members, Channels: g.Channels, QueuePlaces: g.QueuePlaces,
		OfferTimeoutSeconds: int(g.OfferTimeout.Seconds()), MaxWaitSeconds: int(g.MaxWait.Seconds()), ChatMode: g.ChatMode,
		MaxAttempts: g.MaxAttempts, Selection: "least_busy", Hours: g.Hours}
}

type groupInput struct {
	Name                *string   `json:"name"`
	MemberIDs           *[]string `json:"member_ids"`
	Channels            *[]string `json:"channels"`
	QueuePlaces         *int      `json:"queue_places"`
	OfferTimeoutSeconds *int      `json:"offer_timeout_seconds"`
	MaxWaitSeconds      *int      `json:"max_wait_seconds"`
	ChatMode            *string   `json:"chat_mode"`
	MaxAttempts         *int      `json:"max_attempts"`
	Selection           *string   `json:"selection"`
	// Hours: absent keeps them, null makes the group always open.
	Hours json.RawMessage `json:"hours"`
}

// apply validates in and copies it onto g. known holds the ids of existing accounts.
func (in groupInput) apply(g *store.Group, creating bool, known map[string]bool) map[string]string {
	bad := map[string]string{}
	if creating || in.Name != nil {
		n := strings.TrimSpace(deref(in.Name))
		if n == "" || utf8.RuneCountInString(n) > 80 {
			bad["name"] = "a name of 1 to 80 characters is required"
		}
		g.Name = n
	}
	if in.MemberIDs != nil {
		g.Members = []string{}
		for _, id := range *in.MemberIDs {
			if !known[id] {
				bad["member_ids"] = "unknown agent " + quoteShort(id)
				break
			}
			if !slices.Contains(g.Members, id) {
				g.Members = append(g.Members, id)
			}
		}
	}
	if in.Channels != nil {
		g.Channels = []string{}
		for _, ch := range *in.Channels {
			if ch != store.ChannelChat && ch != store.ChannelVideo {
				bad["channels"] = "chat and/or video"
				break
			}
			if !slices.Contains(g.Channels, ch) {
				g.Channels = append(g.Channels, ch)
			}
		}
		if len(g.Channels) == 0 && bad["channels"] == "" {
			bad["channels"] = "at least one channel, chat and/or video: with none, the group's sites get neither"
		}
	}
	if in.QueuePlaces != nil {
		if *in.QueuePlaces < 0 || *in.QueuePlaces > 1000 {
			bad["queue_places"] = "between 0 (no queue) and 1000"
		}
		g.QueuePlaces = *in.QueuePlaces
	}
	if in.OfferTimeoutSeconds != nil {
		if *in.OfferTimeoutSeconds < 5 || *in.OfferTimeoutSeconds > 300 {
			bad["offer_timeout_seconds"] = "between 5 and 300 seconds"
		}
		g.OfferTimeout = time.Duration(*in.OfferTimeoutSeconds) * time.Second
	}
	if in.MaxWaitSeconds != nil {
		if *in.MaxWaitSeconds < 30 || *in.MaxWaitSeconds > 24*3600 {
			bad["max_wait_seconds"] = "between 30 seconds and 24 hours"
		}
		g.MaxWait = time.Duration(*in.MaxWaitSeconds) * time.Second
	}
	if in.ChatMode != nil {
		if *in.ChatMode != store.ChatAssign && *in.ChatMode != store.ChatOffer {
			bad["chat_mode"] = "assign or offer"
		}
		g.ChatMode = *in.ChatMode
	}
	if in.MaxAttempts != nil {
		if *in.MaxAttempts < 1 || *in.MaxAttempts > 20 {
			bad["max_attempts"] = "between 1 and 20"
		}
		g.MaxAttempts = *in.MaxAttempts
	}
	if in.Selection != nil && *in.Selection != "least_busy" {
		bad["selection"] = "least_busy (the least busy agent, then the one idle longest)"
	}
	if len(in.Hours) > 0 {
		var h *store.Hours
		dec := json.NewDecoder(bytes.NewReader(in.Hours))
		dec.DisallowUnknownFields()
		switch err := dec.Decode(&h); {
		case err != nil:
			bad["hours"] = `null (always open), or {"timezone": "Europe/Paris", "days": {"mon": {"open": "09:00", "close": "18:00"}, ...}}`
		case h != nil:
			if err := h.Validate(); err != nil {
				bad["hours"] = err.Error()
			}
		}
		g.Hours = h
	}
	return bad
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return "\"" + s + "\""
}

func (s *Server) knownAccounts(r *http.Request) (map[string]bool, error) {
	accts, err := s.store.Accounts(r.Context())
	known := map[string]bool{}
	for _, a := range accts {
		known[a.ID] = true
	}
	return known, err
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, _ session) {
	groups, err := s.store.Groups(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]groupJSON, 0, len(groups))
	for _, g := range groups {
		out = append(out, viewGroup(g))
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, _ session) {
	var in groupInput
	if !decodeBody(w, r, &in) {
		return
	}
	known, err := s.knownAccounts(r)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	g := store.DefaultGroup("")
	g.Members = []string{}
	if bad := in.apply(&g, true, known); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	g, err = s.store.CreateGroup(r.Context(), g)
	s.answerGroup(w, r, g, err, http.StatusCreated)
}

// answerGroup answers a group's creation or update.
func (s *Server) answerGroup(w http.ResponseWriter, r *http.Request, g store.Group, err error, status int) {
	switch {
	case errors.Is(err, store.ErrConflict):
		writeFieldErrors(w, map[string]string{"name": "a group with this name exists"})
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, status, viewGroup(g))
	}
}

func (s *Server) updateGroup(w http.ResponseWriter, r *http.Request, _ session) {
	var in groupInput
	if !decodeBody(w, r, &in) {
		return
	}
	g, ok := found(s, w, r, "group", s.store.Group)
	if !ok {
		return
	}
	known, err := s.knownAccounts(r)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	before := slices.Clone(g.Members)
	bad := in.apply(&g, false, known)
	// Every agent stays in at least one group: one who would be left in none can't be removed here.
	for _, id := range before {
		if slices.Contains(g.Members, id) {
			continue
		}
		ids, err := s.store.AccountGroupIDs(r.Context(), id)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if len(ids) == 1 {
			bad["member_ids"] = "an agent must stay in at least one group: add them to another group first"
		}
	}
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	g, err = s.store.UpdateGroup(r.Context(), g)
	s.answerGroup(w, r, g, err, http.StatusOK)
}

func (s *Server) supervisorStats(w http.ResponseWriter, r *http.Request, se session) {
	if !se.Account.Supervisor && se.Account.Role != store.RoleAdmin {
		writeError(w, http.StatusForbidden, "forbidden", "supervisors only")
		return
	}
	stats, err := s.router.Stats(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": stats})
}
