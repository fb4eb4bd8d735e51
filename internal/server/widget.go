package server

import (
	"errors"
	"io/fs"
	"net/http"
	"strings"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/store"
)

// allowCORS lets one of the site's allowed origins read the answer.
func allowCORS(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
	}
}

func (s *Server) widgetPreflight(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.siteFor(w, r, r.URL.Query().Get("site")); !ok {
		return
	}
	allowCORS(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) widgetConfig(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFor(w, r, r.URL.Query().Get("site"))
	if !ok {
		return
	}
	allowCORS(w, r)
	writeJSON(w, http.StatusOK, map[string]any{"site": map[string]string{"id": site.PublicID, "name": site.Name, "language": site.Language},
		"max_file_bytes": s.chat.MaxFile(), "invitations": s.widgetInvitations(r, site.ID)})
}

func (s *Server) widgetSession(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Site  string `json:"site"`
		Token string `json:"token"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	site, ok := s.siteFor(w, r, in.Site)
	if !ok {
		return
	}
	allowCORS(w, r)
	visitorID := store.NewID("v")
	if in.Token != "" {
		id, err := s.signer.Verify(in.Token, site.ID, s.now())
		switch {
		case errors.Is(err, auth.ErrTokenExpired):
			writeError(w, http.StatusUnauthorized, "token_expired", "the visitor token has expired")
			return
		case err != nil:
			writeError(w, http.StatusUnauthorized, "token_invalid", "the visitor token is not valid")
			return
		}
		visitorID = id
	}
	exp := s.now().Add(s.cfg.Auth.VisitorTokenTTL)
	writeJSON(w, http.StatusOK, map[string]any{"token": s.signer.Issue(visitorID, site.ID, exp), "visitor_id": visitorID,
		"expires_at": exp.UnixMilli()})
}

func (s *Server) visitorSocket(w http.ResponseWriter, r *http.Request) {
	site, ok := s.siteFor(w, r, r.URL.Query().Get("site"))
	if !ok {
		return
	}
	s.hub.ServeVisitor(w, r, site)
}

// widgetLoader serves the script that sites embed. It may run on any page; it asks /api/widget/config, which
// enforces the site's origins, before it shows anything.
func (s *Server) widgetLoader(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	s.serveFile(w, r, "widget/loader.js")
}

// widgetFrame serves the chatbox page that the loader puts in an iframe. Its frame-ancestors policy lists the
// site's allowed origins, so browsers refuse to show it on any other site.
func (s *Server) widgetFrame(w http.ResponseWriter, r *http.Request) {
	site, err := s.store.SiteByPublicID(r.Context(), r.URL.Query().Get("site"))
	if err != nil {
		http.Error(w, "unknown site", http.StatusNotFound)
		return
	}
	ancestors := []string{"'self'"}
	for _, o := range site.AllowedOrigins {
		if validOrigin(o) {
			ancestors = append(ancestors, o)
		}
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors "+strings.Join(ancestors, " "))
	w.Header().Set("Cache-Control", "no-cache")
	s.serveFile(w, r, "widget/frame.html")
}

// app serves a single-page app (the desk, the admin) that no other site may frame.
func (s *Server) app(file string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Cache-Control", "no-cache")
		s.serveFile(w, r, file)
	}
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	f, err := s.static.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, name, st.ModTime(), f.(readSeeker))
}

type readSeeker interface {
	Read([]byte) (int, error)
	Seek(int64, int) (int64, error)
}

// staticFiles serves the embedded modules and styles. They are revalidated on each load, so a new release is
// picked up at once.
func (s *Server) staticFiles() http.Handler {
	fsrv := http.StripPrefix("/static/", http.FileServerFS(s.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		if _, err := fs.Stat(s.static, strings.TrimPrefix(r.URL.Path, "/static/")); err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}
