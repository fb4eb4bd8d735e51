package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/internal/store"
)

// Proactive invitations (docs/api.md, "Proactive invitations"): written by an admin per site, shown by the widget.

// invitationJSON is INVITATION in docs/api.md.
type invitationJSON struct {
	ID           string `json:"id"`
	SiteID       string `json:"site_id"`
	Message      string `json:"message"`
	URLContains  string `json:"url_contains"`
	DelaySeconds int    `json:"delay_seconds"`
	Enabled      bool   `json:"enabled"`
	Shown        int64  `json:"shown"`
	Answered     int64  `json:"answered"`
}

func viewInvitation(in store.Invitation) invitationJSON {
	return invitationJSON{ID: in.ID, SiteID: in.SiteID, Message: in.Message, URLContains: in.URLContains,
		DelaySeconds: int(in.Delay / time.Second), Enabled: in.Enabled, Shown: in.Shown, Answered: in.Answered}
}

// Limits of an invitation.
const (
	maxInvitationMessage = 500
	maxInvitationURL     = 200
	maxInvitationDelay   = 600 // seconds
)

type invitationInput struct {
	SiteID       *string `json:"site_id"`
	Message      *string `json:"message"`
	URLContains  *string `json:"url_contains"`
	DelaySeconds *int    `json:"delay_seconds"`
	Enabled      *bool   `json:"enabled"`
}

// apply validates in onto inv. The site is set on creation only.
func (in invitationInput) apply(inv *store.Invitation, creating bool) map[string]string {
	bad := map[string]string{}
	if creating {
		inv.SiteID = deref(in.SiteID)
		if inv.SiteID == "" {
			bad["site_id"] = "choose the site that shows it"
		}
		inv.Enabled = true
		inv.Delay = 30 * time.Second
	} else if in.SiteID != nil && *in.SiteID != inv.SiteID {
		bad["site_id"] = "an invitation stays on its site: create one on the other site"
	}
	if creating || in.Message != nil {
		m := strings.TrimSpace(deref(in.Message))
		if m == "" || utf8.RuneCountInString(m) > maxInvitationMessage {
			bad["message"] = "a text of 1 to 500 characters is required"
		}
		inv.Message = m
	}
	if in.URLContains != nil {
		u := strings.TrimSpace(*in.URLContains)
		if utf8.RuneCountInString(u) > maxInvitationURL {
			bad["url_contains"] = "at most 200 characters"
		}
		inv.URLContains = u
	}
	if in.DelaySeconds != nil {
		if *in.DelaySeconds < 0 || *in.DelaySeconds > maxInvitationDelay {
			bad["delay_seconds"] = "from 0 to 600 seconds"
		}
		inv.Delay = time.Duration(*in.DelaySeconds) * time.Second
	}
	if in.Enabled != nil {
		inv.Enabled = *in.Enabled
	}
	return bad
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, _ session) {
	list, err := s.store.Invitations(r.Context(), r.URL.Query().Get("site_id"))
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]invitationJSON, len(list))
	for i, in := range list {
		out[i] = viewInvitation(in)
	}
	writeJSON(w, http.StatusOK, map[string]any{"invitations": out})
}

func (s *Server) createInvitation(w http.ResponseWriter, r *http.Request, _ session) {
	var in invitationInput
	if !decodeBody(w, r, &in) {
		return
	}
	var inv store.Invitation
	if bad := in.apply(&inv, true); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	inv, err := s.store.CreateInvitation(r.Context(), inv, s.now())
	if errors.Is(err, store.ErrNotFound) {
		writeFieldErrors(w, map[string]string{"site_id": "no such site"})
		return
	}
	s.answerInvitation(w, r, inv, err, http.StatusCreated)
}

func (s *Server) updateInvitation(w http.ResponseWriter, r *http.Request, _ session) {
	var in invitationInput
	if !decodeBody(w, r, &in) {
		return
	}
	inv, ok := found(s, w, r, "invitation", s.store.Invitation)
	if !ok {
		return
	}
	if bad := in.apply(&inv, false); len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	inv, err := s.store.UpdateInvitation(r.Context(), inv, s.now())
	s.answerInvitation(w, r, inv, err, http.StatusOK)
}

func (s *Server) answerInvitation(w http.ResponseWriter, r *http.Request, inv store.Invitation, err error, status int) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such invitation")
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, status, viewInvitation(inv))
	}
}

func (s *Server) deleteInvitation(w http.ResponseWriter, r *http.Request, _ session) {
	err := s.store.DeleteInvitation(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such invitation")
	case err != nil:
		s.internalError(w, r, err)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// widgetInvitation is an invitation as the widget's config gives it: when to ask about it.
type widgetInvitation struct {
	ID           string `json:"id"`
	URLContains  string `json:"url_contains"`
	DelaySeconds int    `json:"delay_seconds"`
}

// widgetInvitations lists the site's invitations that are on, for the widget's config.
func (s *Server) widgetInvitations(r *http.Request, siteID string) []widgetInvitation {
	out := []widgetInvitation{}
	list, err := s.store.Invitations(r.Context(), siteID)
	if err != nil {
		s.log.Warn("invitations for the widget", slog.String("site_id", siteID), slog.Any("error", err))
		return out
	}
	for _, in := range list {
		if in.Enabled {
			out = append(out, widgetInvitation{ID: in.ID, URLContains: in.URLContains, DelaySeconds: int(in.Delay / time.Second)})
		}
	}
	return out
}

// showInvitation answers the widget about to show an invitation (POST /api/widget/invitations/{id}/show?site=):
// its text, when an agent could answer now (the showing is counted), or why not.
func (s *Server) showInvitation(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFor(w, r, r.URL.Query().Get("site"))
	if !ok {
		return
	}
	allowCORS(w, r)
	if _, ok := s.visitorFor(w, r, site); !ok {
		return
	}
	inv, err := s.store.Invitation(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && inv.SiteID != site.ID) {
		writeError(w, http.StatusNotFound, "not_found", "no such invitation")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !inv.Enabled {
		writeJSON(w, http.StatusOK, map[string]any{"show": false, "reason": "disabled"})
		return
	}
	avail, err := s.router.ChatAvailability(r.Context(), site.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !avail.Available {
		writeJSON(w, http.StatusOK, map[string]any{"show": false, "reason": avail.Reason})
		return
	}
	if err := s.store.InvitationShown(r.Context(), inv.ID); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"show": true, "message": inv.Message, "name": site.Name})
}
