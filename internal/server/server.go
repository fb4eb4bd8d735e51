// Package server is Parley's HTTP edge: routes, sessions and CSRF, origin checks, the JSON APIs, the embedded web
// apps and the WebSocket upgrades (handed to the realtime hub). Handlers are thin: decode, check, call, encode.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/bot"
	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/metrics"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/realtime"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// Server holds the HTTP handlers' dependencies.
type Server struct {
	cfg      config.Config
	store    *store.Store
	bus      bus.Bus
	hub      *realtime.Hub
	router   *routing.Engine
	notifier *notify.Notifier
	bots     *bot.Service
	chat     *chat.Service
	webhooks Invalidator
	signer   *auth.VisitorSigner
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
	static   fs.FS
	// demoSite, when set, is the public id of the site whose demo shop page /demo/ serves.
	demoSite string
	// check and checkLimits serve the pre-call check's API (check_api.go).
	check       CheckDeps
	checkLimits checkLimits
}

// Invalidator drops what it read from the database, to read it again.
type Invalidator interface {
	Invalidate()
}

// Deps are what the server needs.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Bus      bus.Bus
	Hub      *realtime.Hub
	Router   *routing.Engine
	Notifier *notify.Notifier
	Bots     *bot.Service
	Chat     *chat.Service
	// Webhooks is told when the admin changes the webhooks to a company's systems (may be nil).
	Webhooks Invalidator
	Signer   *auth.VisitorSigner
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	Now      func() time.Time
	Static   fs.FS
	DemoSite string
	Check    CheckDeps
}

// New builds the server.
func New(d Deps) *Server {
	return &Server{cfg: d.Config, store: d.Store, bus: d.Bus, hub: d.Hub, router: d.Router, notifier: d.Notifier, bots: d.Bots, chat: d.Chat, webhooks: d.Webhooks, signer: d.Signer, metrics: d.Metrics,
		log: d.Log, now: d.Now, static: d.Static, demoSite: d.DemoSite, check: d.Check,
		checkLimits: newCheckLimits(echoDuration(d.Check.Echo))}
}

func echoDuration(e Echo) time.Duration {
	if e == nil {
		return 0
	}
	return e.MaxDuration()
}

// Handler returns every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))

	mux.HandleFunc("POST /api/auth/login", s.login)
	mux.HandleFunc("POST /api/auth/logout", s.withSession(s.logout))
	mux.HandleFunc("GET /api/auth/me", s.withSession(s.me))
	mux.HandleFunc("POST /api/auth/password", s.withSession(s.changePassword))

	mux.HandleFunc("GET /api/desk/conversations", s.withSession(s.deskConversations))
	mux.HandleFunc("GET /api/desk/conversations/{id}/events", s.withSession(s.deskEvents))
	mux.HandleFunc("GET /api/desk/conversations/{id}/history", s.withSession(s.deskHistory))
	mux.HandleFunc("GET /api/desk/search", s.withSession(s.deskSearch))
	mux.HandleFunc("POST /api/desk/conversations/{id}/files", s.withSession(s.deskSendFile))
	mux.HandleFunc("GET /api/desk/files/{id}", s.withSession(s.deskFile))
	mux.HandleFunc("PUT /api/desk/conversations/{id}/tags/{tag}", s.withSession(s.tagConversation))
	mux.HandleFunc("DELETE /api/desk/conversations/{id}/tags/{tag}", s.withSession(s.untagConversation))
	mux.HandleFunc("GET /api/desk/tags", s.withSession(s.popularTags))

	mux.HandleFunc("GET /api/admin/agents", s.withAdmin(s.listAgents))
	mux.HandleFunc("POST /api/admin/agents", s.withAdmin(s.createAgent))
	mux.HandleFunc("PATCH /api/admin/agents/{id}", s.withAdmin(s.updateAgent))
	mux.HandleFunc("GET /api/supervisor/stats", s.withSession(s.supervisorStats))
	mux.HandleFunc("GET /api/desk/saved-replies", s.withSession(s.listSavedReplies))
	mux.HandleFunc("GET /api/admin/conversations.csv", s.withAdmin(s.exportConversations))
	mux.HandleFunc("GET /api/admin/saved-replies", s.withAdmin(s.listSavedReplies))
	mux.HandleFunc("POST /api/admin/saved-replies", s.withAdmin(s.createSavedReply))
	mux.HandleFunc("PATCH /api/admin/saved-replies/{id}", s.withAdmin(s.updateSavedReply))
	mux.HandleFunc("DELETE /api/admin/saved-replies/{id}", s.withAdmin(s.deleteSavedReply))
	mux.HandleFunc("GET /api/admin/invitations", s.withAdmin(s.listInvitations))
	mux.HandleFunc("POST /api/admin/invitations", s.withAdmin(s.createInvitation))
	mux.HandleFunc("PATCH /api/admin/invitations/{id}", s.withAdmin(s.updateInvitation))
	mux.HandleFunc("DELETE /api/admin/invitations/{id}", s.withAdmin(s.deleteInvitation))
	mux.HandleFunc("GET /api/admin/webhooks", s.withAdmin(s.listWebhooks))
	mux.HandleFunc("POST /api/admin/webhooks", s.withAdmin(s.createWebhook))
	mux.HandleFunc("PATCH /api/admin/webhooks/{id}", s.withAdmin(s.updateWebhook))
	mux.HandleFunc("DELETE /api/admin/webhooks/{id}", s.withAdmin(s.deleteWebhook))
	mux.HandleFunc("GET /api/admin/groups", s.withAdmin(s.listGroups))
	mux.HandleFunc("POST /api/admin/groups", s.withAdmin(s.createGroup))
	mux.HandleFunc("PATCH /api/admin/groups/{id}", s.withAdmin(s.updateGroup))
	mux.HandleFunc("GET /api/admin/sites", s.withAdmin(s.listSites))
	mux.HandleFunc("POST /api/admin/sites", s.withAdmin(s.createSite))
	mux.HandleFunc("PATCH /api/admin/sites/{id}", s.withAdmin(s.updateSite))

	mux.HandleFunc("GET /api/admin/bots", s.withAdmin(s.listBots))
	mux.HandleFunc("POST /api/admin/bots", s.withAdmin(s.createBot))
	mux.HandleFunc("PATCH /api/admin/bots/{id}", s.withAdmin(s.updateBot))
	mux.HandleFunc("DELETE /api/admin/bots/{id}", s.withAdmin(s.deleteBot))
	mux.HandleFunc("POST /api/admin/bots/{id}/credentials", s.withAdmin(s.renewBotCredentials))
	mux.HandleFunc("PUT /api/admin/sites/{id}/bot", s.withAdmin(s.setSiteBot))
	mux.HandleFunc("POST /api/bot/conversations/{id}/messages", s.withBot(s.botPost))
	mux.HandleFunc("POST /api/bot/conversations/{id}/transfer", s.withBot(s.botTransfer))

	mux.HandleFunc("GET /api/widget/config", s.widgetConfig)
	mux.HandleFunc("OPTIONS /api/widget/", s.widgetPreflight)
	mux.HandleFunc("POST /api/widget/session", s.widgetSession)
	mux.HandleFunc("POST /api/widget/files", s.widgetSendFile)
	mux.HandleFunc("GET /api/widget/files/{id}", s.widgetFile)
	mux.HandleFunc("POST /api/widget/invitations/{id}/show", s.showInvitation)

	mux.HandleFunc("GET /api/check/config", s.checkConfig)
	mux.HandleFunc("OPTIONS /api/check/", s.checkPreflight)
	mux.HandleFunc("POST /api/check/echo", s.checkEcho)
	mux.HandleFunc("GET /api/check/echo/{id}", s.checkEchoStats)
	mux.HandleFunc("DELETE /api/check/echo/{id}", s.checkEchoEnd)

	mux.HandleFunc("GET /ws/visitor", s.visitorSocket)
	mux.HandleFunc("GET /ws/desk", s.deskSocket)
	mux.HandleFunc("GET /ws/check", s.checkSocket)

	mux.HandleFunc("GET /widget.js", s.widgetLoader)
	mux.HandleFunc("GET /widget/frame", s.widgetFrame)
	mux.Handle("GET /static/", s.staticFiles())
	mux.HandleFunc("GET /desk/", s.app("desk/index.html"))
	mux.HandleFunc("GET /admin/", s.app("admin/index.html"))
	mux.HandleFunc("GET /check", s.app("check/index.html"))
	mux.HandleFunc("GET /demo/", s.demoPage)
	mux.HandleFunc("GET /demo/bot/", s.demoBotPage)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/desk/", http.StatusFound) })
	return s.recoverer(s.securityHeaders(carriedOut(mux)))
}

// changeTimeout bounds a request that changes something, which the client's leaving doesn't stop.
const changeTimeout = 30 * time.Second

// carriedOut gives each request that changes something (any method but GET, HEAD and OPTIONS) a context the
// client's leaving doesn't cancel: once read, it is done whole. A bot's transfer cut off halfway by its HTTP
// client's timeout would leave the conversation neither with the bot nor in the queue. Reads stop with the client.
func carriedOut(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), changeTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("not ready", slog.Any("error", err))
		http.Error(w, "database unavailable\n", http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// securityHeaders sets what every answer carries. Pages set their own framing rules.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panicking handler into a 500, so one bad request never takes the server down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", slog.String("path", r.URL.Path), slog.Any("error", v))
				writeError(w, http.StatusInternalServerError, "internal", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// apiError is the one error shape of the API (docs/api.md).
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg}})
}

func writeFieldErrors(w http.ResponseWriter, fields map[string]string) {
	writeJSON(w, http.StatusBadRequest, map[string]apiError{"error": {Code: "invalid_input", Message: "some fields are invalid", Fields: fields}})
}

// internalError logs err and answers 500 without its text.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	writeError(w, http.StatusInternalServerError, "internal", "internal error")
}

// decodeBody reads a JSON body of at most 64 KiB, strictly.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "the body must be a JSON object with the documented fields")
		return false
	}
	return true
}

// ownOrigin is Parley's own origin as the browser sees it.
func (s *Server) ownOrigin(r *http.Request) string {
	if s.cfg.HTTP.PublicURL != "" {
		u, _ := url.Parse(s.cfg.HTTP.PublicURL)
		return u.Scheme + "://" + u.Host
	}
	return s.scheme(r) + "://" + r.Host
}

func (s *Server) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if s.cfg.HTTP.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https" {
		return "https"
	}
	return "http"
}

// sameOrigin reports whether a request that carries an Origin comes from Parley's own pages. Browsers send Origin
// on every cross-site request and every POST, so a missing one is a same-origin GET or a non-browser client.
func (s *Server) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || o == s.ownOrigin(r)
}

// siteAllows reports whether origin may embed the site's widget: Parley's own origin (the iframe itself) or one of
// the site's allowed origins.
func (s *Server) siteAllows(r *http.Request, site store.Site, origin string) bool {
	if origin == "" || origin == s.ownOrigin(r) {
		return true
	}
	for _, o := range site.AllowedOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// siteFor finds the site named by the request's "site" parameter and checks the request's origin against it. It
// writes the error answer itself when it returns false.
func (s *Server) siteFor(w http.ResponseWriter, r *http.Request, publicID string) (store.Site, bool) {
	if publicID == "" || len(publicID) > 64 {
		writeError(w, http.StatusNotFound, "site_not_found", "unknown site")
		return store.Site{}, false
	}
	site, err := s.store.SiteByPublicID(r.Context(), publicID)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "site_not_found", "unknown site")
		return store.Site{}, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return store.Site{}, false
	}
	if !s.siteAllows(r, site, r.Header.Get("Origin")) {
		writeError(w, http.StatusForbidden, "origin_not_allowed", "this origin is not allowed for the site")
		return store.Site{}, false
	}
	return site, true
}
