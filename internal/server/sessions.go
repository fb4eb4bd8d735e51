package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/store"
)

const sessionCookie = "parley_session"

// session is an authenticated request's identity.
type session struct {
	store.Session
	Account store.Account
}

type sessionHandler func(w http.ResponseWriter, r *http.Request, se session)

// authenticate reads the session cookie. It returns false when there is no valid session.
func (s *Server) authenticate(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return session{}, false
	}
	se, acct, err := s.store.SessionAccount(r.Context(), auth.SessionID(c.Value), s.now())
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrDisabled) {
			s.log.Error("session lookup", slog.Any("error", err))
		}
		return session{}, false
	}
	return session{Session: se, Account: acct}, true
}

// withSession requires a logged-in account. Requests that change something must also pass the CSRF check: the
// X-CSRF-Token header matches the session's token, and the Origin, if any, is Parley's own.
func (s *Server) withSession(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se, ok := s.authenticate(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, "unauthenticated", "log in first")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			token := r.Header.Get("X-CSRF-Token")
			if !s.sameOrigin(r) || subtle.ConstantTimeCompare([]byte(token), []byte(se.CSRFToken)) != 1 {
				writeError(w, http.StatusForbidden, "csrf_failed", "missing or wrong CSRF token")
				return
			}
		}
		// Sliding expiry: an agent at work stays logged in.
		if remaining := se.ExpiresAt.Sub(s.now()); remaining < s.cfg.Auth.SessionTTL/2 {
			exp := s.now().Add(s.cfg.Auth.SessionTTL)
			if err := s.store.ExtendSession(r.Context(), se.ID, exp); err == nil {
				c, _ := r.Cookie(sessionCookie)
				s.setSessionCookie(w, r, c.Value, int(s.cfg.Auth.SessionTTL.Seconds()))
			}
		}
		h(w, r, se)
	}
}

func (s *Server) withAdmin(h sessionHandler) http.HandlerFunc {
	return s.withSession(func(w http.ResponseWriter, r *http.Request, se session) {
		if se.Account.Role != store.RoleAdmin {
			writeError(w, http.StatusForbidden, "forbidden", "admins only")
			return
		}
		h(w, r, se)
	})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.scheme(r) == "https"})
}

// accountJSON is ACCOUNT in docs/api.md.
type accountJSON struct {
	ID           string   `json:"id"`
	Email        string   `json:"email"`
	Name         string   `json:"name"`
	Role         string   `json:"role"`
	Disabled     bool     `json:"disabled"`
	ChatCapacity int      `json:"chat_capacity"`
	Supervisor   bool     `json:"supervisor"`
	Escalation   bool     `json:"escalation"`
	Groups       []string `json:"groups"`
	GroupIDs     []string `json:"group_ids"`
}

func (s *Server) accountJSON(ctx context.Context, a store.Account) accountJSON {
	groups, err := s.store.AccountGroups(ctx, a.ID)
	if err != nil {
		groups = []string{}
	}
	ids, err := s.store.AccountGroupIDs(ctx, a.ID)
	if err != nil {
		ids = []string{}
	}
	return accountJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: a.Role, Disabled: a.Disabled, ChatCapacity: a.ChatCapacity,
		Supervisor: a.Supervisor, Escalation: a.CanEscalate, Groups: groups, GroupIDs: ids}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		writeError(w, http.StatusForbidden, "csrf_failed", "log in from Parley's own pages")
		return
	}
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	acct, err := s.store.AccountByEmail(r.Context(), strings.ToLower(strings.TrimSpace(in.Email)))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.internalError(w, r, err)
		return
	}
	// The same answer, after the same work, for an unknown email, a wrong password and a disabled account.
	var ok bool
	if err == nil {
		ok = auth.CheckPassword(acct.PasswordHash, in.Password) && !acct.Disabled
	} else {
		ok = auth.CheckNoAccount(in.Password)
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, "invalid_credentials", "wrong email or password")
		return
	}
	token, id := auth.NewSessionToken()
	se := store.Session{ID: id, AccountID: acct.ID, CSRFToken: auth.RandomString(24), CreatedAt: s.now(), ExpiresAt: s.now().Add(s.cfg.Auth.SessionTTL)}
	if err := s.store.CreateSession(r.Context(), se); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, token, int(s.cfg.Auth.SessionTTL.Seconds()))
	writeJSON(w, http.StatusOK, map[string]any{"account": s.accountJSON(r.Context(), acct), "csrf_token": se.CSRFToken})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, se session) {
	writeJSON(w, http.StatusOK, map[string]any{"account": s.accountJSON(r.Context(), se.Account), "csrf_token": se.CSRFToken,
		"max_file_bytes": s.chat.MaxFile()})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, se session) {
	if err := s.store.DeleteSession(r.Context(), se.ID); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.setSessionCookie(w, r, "", -1)
	s.revokeSockets(r.Context(), se.Account.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, se session) {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if !auth.CheckPassword(se.Account.PasswordHash, in.Current) {
		writeJSON(w, http.StatusBadRequest, map[string]apiError{"error": {Code: "invalid_input", Message: "the current password is wrong",
			Fields: map[string]string{"current_password": "wrong password"}}})
		return
	}
	hash, err := auth.HashPassword(in.New)
	if err != nil {
		writeFieldErrors(w, map[string]string{"new_password": "at least 8 characters"})
		return
	}
	acct := se.Account
	acct.PasswordHash = hash
	if _, err := s.store.UpdateAccount(r.Context(), acct); err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.store.DeleteSessions(r.Context(), acct.ID, se.ID); err != nil {
		s.internalError(w, r, err)
		return
	}
	s.revokeSockets(r.Context(), acct.ID)
	w.WriteHeader(http.StatusNoContent)
}

// revokeSockets tells every node to re-check the sessions of the account's desk sockets; those whose session is
// gone close with code 4502. A missed notice is caught by the sockets' own check on their next heartbeat.
func (s *Server) revokeSockets(ctx context.Context, accountID string) {
	s.notifier.Revoke(ctx, accountID)
}
