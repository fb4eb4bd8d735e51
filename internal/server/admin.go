package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/store"
)

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request, _ session) {
	accts, err := s.store.Accounts(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]accountJSON, 0, len(accts))
	for _, a := range accts {
		out = append(out, s.accountJSON(r.Context(), a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": out})
}

// agentInput is the body of create and update; pointers tell "not given" from "zero".
type agentInput struct {
	Email        *string   `json:"email"`
	Name         *string   `json:"name"`
	Password     *string   `json:"password"`
	Role         *string   `json:"role"`
	ChatCapacity *int      `json:"chat_capacity"`
	Disabled     *bool     `json:"disabled"`
	Supervisor   *bool     `json:"supervisor"`
	Escalation   *bool     `json:"escalation"`
	GroupIDs     *[]string `json:"group_ids"`
}

// apply validates in and copies it onto a, collecting every problem by field.
func (in agentInput) apply(a *store.Account, creating bool) map[string]string {
	bad := map[string]string{}
	if creating || in.Email != nil {
		if !creating {
			bad["email"] = "the email can't be changed"
		} else if e := strings.ToLower(strings.TrimSpace(deref(in.Email))); !validEmail(e) {
			bad["email"] = "a valid email address is required"
		} else {
			a.Email = e
		}
	}
	if creating || in.Name != nil {
		n := strings.TrimSpace(deref(in.Name))
		if n == "" || utf8.RuneCountInString(n) > 80 {
			bad["name"] = "a name of 1 to 80 characters is required"
		}
		a.Name = n
	}
	if creating || in.Password != nil {
		h, err := auth.HashPassword(deref(in.Password))
		if err != nil {
			bad["password"] = "at least 8 characters"
		}
		a.PasswordHash = h
	}
	if in.Role != nil || creating {
		role := deref(in.Role)
		if role == "" && creating {
			role = store.RoleAgent
		}
		if role != store.RoleAgent && role != store.RoleAdmin {
			bad["role"] = "agent or admin"
		}
		a.Role = role
	}
	if in.ChatCapacity != nil {
		if *in.ChatCapacity < 1 || *in.ChatCapacity > 50 {
			bad["chat_capacity"] = "between 1 and 50"
		}
		a.ChatCapacity = *in.ChatCapacity
	} else if creating {
		a.ChatCapacity = 3
	}
	if in.Disabled != nil {
		a.Disabled = *in.Disabled
	}
	if in.Supervisor != nil {
		a.Supervisor = *in.Supervisor
	}
	if in.Escalation != nil {
		a.CanEscalate = *in.Escalation
	}
	return bad
}

// checkGroups validates the groups asked for an agent: they exist, and an agent is in at least one.
func (s *Server) checkGroups(r *http.Request, role string, ids *[]string, bad map[string]string) {
	if ids == nil {
		return
	}
	if len(*ids) == 0 && role == store.RoleAgent {
		bad["group_ids"] = "an agent must be in at least one group"
		return
	}
	for _, id := range *ids {
		if _, err := s.store.Group(r.Context(), id); err != nil {
			bad["group_ids"] = "unknown group " + quoteShort(id)
			return
		}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func validEmail(e string) bool {
	addr, err := mail.ParseAddress(e)
	return err == nil && addr.Address == e && len(e) <= 254
}

func (s *Server) createAgent(w http.ResponseWriter, r *http.Request, _ session) {
	var in agentInput
	if !decodeBody(w, r, &in) {
		return
	}
	var a store.Account
	bad := in.apply(&a, true)
	if in.GroupIDs == nil && a.Role == store.RoleAgent {
		bad["group_ids"] = "an agent must be in at least one group"
	}
	s.checkGroups(r, a.Role, in.GroupIDs, bad)
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	a, err := s.store.CreateAccount(r.Context(), a)
	if errors.Is(err, store.ErrConflict) {
		writeJSON(w, http.StatusConflict, map[string]apiError{"error": {Code: "email_taken", Message: "an account with this email exists",
			Fields: map[string]string{"email": "already taken"}}})
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if in.GroupIDs != nil {
		if err := s.store.SetAccountGroups(r.Context(), a.ID, *in.GroupIDs); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusCreated, s.accountJSON(r.Context(), a))
}

func (s *Server) updateAgent(w http.ResponseWriter, r *http.Request, se session) {
	var in agentInput
	if !decodeBody(w, r, &in) {
		return
	}
	a, ok := found(s, w, r, "agent", s.store.Account)
	if !ok {
		return
	}
	bad := in.apply(&a, false)
	s.checkGroups(r, a.Role, in.GroupIDs, bad)
	if a.ID == se.Account.ID && (a.Disabled || a.Role != store.RoleAdmin) {
		bad["disabled"] = "you can't disable yourself or drop your own admin role"
	}
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	a, err := s.store.UpdateAccount(r.Context(), a)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if in.GroupIDs != nil {
		if err := s.store.SetAccountGroups(r.Context(), a.ID, *in.GroupIDs); err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	if a.Disabled || in.Password != nil {
		keep := ""
		if a.ID == se.Account.ID {
			keep = se.ID
		}
		if err := s.store.DeleteSessions(r.Context(), a.ID, keep); err != nil {
			s.internalError(w, r, err)
			return
		}
		s.revokeSockets(r.Context(), a.ID)
	}
	writeJSON(w, http.StatusOK, s.accountJSON(r.Context(), a))
}

// siteJSON is SITE in docs/api.md.
type siteJSON struct {
	ID             string   `json:"id"`
	PublicID       string   `json:"public_id"`
	Name           string   `json:"name"`
	AllowedOrigins []string `json:"allowed_origins"`
	Language       string   `json:"language"`
	GroupID        string   `json:"group_id"`
	Snippet        string   `json:"snippet"`
	// Video is the site's camera policy and video notification (site_video.go).
	Video siteVideoJSON `json:"video"`
	// IdentitySecret is the key the site's backend signs its signed-in visitors' e-mail addresses with
	// (docs/api.md, "Identifying signed-in visitors").
	IdentitySecret string `json:"identity_secret"`
}

func (s *Server) siteJSON(r *http.Request, st store.Site, video store.SiteVideo) siteJSON {
	secret, err := s.store.IdentitySecret(r.Context(), st.ID)
	if err != nil {
		s.log.Error("identity secret", slog.String("site_id", st.ID), slog.Any("error", err))
	}
	return siteJSON{ID: st.ID, PublicID: st.PublicID, Name: st.Name, AllowedOrigins: st.AllowedOrigins, Language: st.Language,
		GroupID: st.GroupID, Snippet: Snippet(s.ownOrigin(r), st.PublicID), Video: viewSiteVideo(video), IdentitySecret: secret}
}

// Snippet is the install tag for a site.
func Snippet(origin, publicID string) string {
	return `<script src="` + origin + `/widget.js" data-site="` + publicID + `" async></script>`
}

func (s *Server) listSites(w http.ResponseWriter, r *http.Request, _ session) {
	sites, err := s.store.Sites(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	videos, err := s.store.SiteVideos(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := make([]siteJSON, 0, len(sites))
	for _, st := range sites {
		out = append(out, s.siteJSON(r, st, videos[st.ID]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"sites": out})
}

type siteInput struct {
	Name           *string   `json:"name"`
	AllowedOrigins *[]string `json:"allowed_origins"`
	Language       *string   `json:"language"`
	GroupID        *string   `json:"group_id"`
	// Video is the site's camera policy and video notification (site_video.go).
	Video *siteVideoInput `json:"video"`
}

func (in siteInput) apply(st *store.Site, creating bool) map[string]string {
	bad := map[string]string{}
	if creating || in.Name != nil {
		n := strings.TrimSpace(deref(in.Name))
		if n == "" || utf8.RuneCountInString(n) > 80 {
			bad["name"] = "a name of 1 to 80 characters is required"
		}
		st.Name = n
	}
	if in.AllowedOrigins != nil {
		origins := []string{}
		for _, o := range *in.AllowedOrigins {
			o = strings.TrimRight(strings.TrimSpace(o), "/")
			if o == "" {
				continue
			}
			if !validOrigin(o) {
				bad["allowed_origins"] = "each origin is a scheme and host, like https://shop.example.com (no path): " + o
				break
			}
			origins = append(origins, strings.ToLower(o))
		}
		st.AllowedOrigins = origins
	}
	if in.GroupID != nil {
		st.GroupID = *in.GroupID
	}
	if in.Language != nil {
		switch *in.Language {
		case "", "en", "fr":
			st.Language = *in.Language
		default:
			bad["language"] = "empty (the visitor's browser decides), en or fr"
		}
	}
	return bad
}

// validOrigin accepts a bare origin: http(s)://host[:port], nothing more. Anything else could smuggle extra
// directives into the frame-ancestors policy.
func validOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil && !strings.ContainsAny(o, " ;,'\"")
}

func (s *Server) createSite(w http.ResponseWriter, r *http.Request, _ session) {
	var in siteInput
	if !decodeBody(w, r, &in) {
		return
	}
	var st store.Site
	video := store.DefaultSiteVideo()
	bad := in.apply(&st, true)
	s.checkSiteGroup(r, st.GroupID, bad)
	in.Video.apply(&video, bad)
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	st, err := s.store.CreateSite(r.Context(), st)
	if err == nil {
		video, err = s.store.SetSiteVideo(r.Context(), st.ID, video)
	}
	s.answerSite(w, r, st, video, err, http.StatusCreated)
}

// answerSite answers a site's creation or update.
func (s *Server) answerSite(w http.ResponseWriter, r *http.Request, st store.Site, video store.SiteVideo, err error, status int) {
	switch {
	case errors.Is(err, store.ErrConflict):
		writeFieldErrors(w, map[string]string{"name": "a site with this name exists"})
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, status, s.siteJSON(r, st, video))
	}
}

// found loads the thing named by the request's {id}, answering 404 or 500 itself when it can't.
func found[T any](s *Server, w http.ResponseWriter, r *http.Request, what string, load func(context.Context, string) (T, error)) (T, bool) {
	v, err := load(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such "+what)
		return v, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return v, false
	}
	return v, true
}

func (s *Server) updateSite(w http.ResponseWriter, r *http.Request, _ session) {
	var in siteInput
	if !decodeBody(w, r, &in) {
		return
	}
	st, ok := found(s, w, r, "site", s.store.Site)
	if !ok {
		return
	}
	video, err := s.store.SiteVideo(r.Context(), st.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	bad := in.apply(&st, false)
	s.checkSiteGroup(r, st.GroupID, bad)
	in.Video.apply(&video, bad)
	if len(bad) > 0 {
		writeFieldErrors(w, bad)
		return
	}
	st, err = s.store.UpdateSite(r.Context(), st)
	if err == nil && in.Video != nil {
		video, err = s.store.SetSiteVideo(r.Context(), st.ID, video)
	}
	s.answerSite(w, r, st, video, err, http.StatusOK)
}

// checkSiteGroup checks that a site's routing group exists ("" means none: nobody answers the site).
func (s *Server) checkSiteGroup(r *http.Request, groupID string, bad map[string]string) {
	if groupID == "" {
		return
	}
	if _, err := s.store.Group(r.Context(), groupID); err != nil {
		bad["group_id"] = "unknown group"
	}
}
