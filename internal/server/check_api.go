package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley/parley/internal/media"
)

// The pre-call check's API (docs/api.md, "Pre-call check"): GET /api/check/config tells the page where the relay
// and the TURN server are, with short-lived TURN credentials of its own; POST /api/check/echo connects the page to
// the relay's echo, which sends its media back, for a bitrate test through the relay; GET /api/check/echo/{id}
// reports what the relay received, and DELETE /api/check/echo/{id} tells the server the page is done with it. No
// session is needed: the check runs before a visitor has one. Per-address limits keep it a check and not a free
// media service.

// Echo is the relay's echo for the check (media.Echo).
type Echo interface {
	Start(ctx context.Context, offer string) (id, answer string, err error)
	Stats(id string) (media.EchoStats, error)
	End(id string) error
	MaxDuration() time.Duration
}

// CheckDeps are what the check's API needs. Without Echo the echo answers 503; without ICEServers the config has
// no TURN servers.
type CheckDeps struct {
	Echo Echo
	// UDPPort and TCPPort are the relay's ports (TCPPort 0: ICE-TCP is off).
	UDPPort, TCPPort int
	// ICEServers returns TURN servers with fresh credentials for user.
	ICEServers func(user string) ([]media.ICEServer, error)
}

// Limits of the check's API, per client address. A check page runs three echo sessions at once (UDP with the
// bandwidth test, ICE-TCP, TURN) and the widget's lobby one (its quick check), and a page ends its sessions
// (DELETE /api/check/echo/{id}) when it is done with them, so "Check again" starts from nothing running.
const (
	checkConfigPerMinute = 30 // a check asks once; a page reloaded a few times stays well within
	checkEchoAtOnce      = 4  // sessions running at once: a check page's three and the lobby's
	checkEchoPerMinute   = 20 // six checks in a row and the lobby's
	checkSocketPerMinute = 30 // the check socket: one a check, as the config
)

// checkConfig answers GET /api/check/config.
func (s *Server) checkConfig(w http.ResponseWriter, r *http.Request) {
	if !s.checkOrigin(w, r) {
		return
	}
	if !s.checkLimits.config.allow(clientIP(r, s.cfg.HTTP.TrustProxy), s.now()) {
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many checks from this address: try again in a minute")
		return
	}
	c := s.check
	out := map[string]any{
		"ws_url":      strings.Replace(s.ownOrigin(r), "http", "ws", 1) + "/ws/check",
		"media":       map[string]int{"udp_port": c.UDPPort, "tcp_port": c.TCPPort},
		"ice_servers": []media.ICEServer{},
		"echo": map[string]any{"url": "/api/check/echo", "available": c.Echo != nil,
			"max_seconds": checkEchoSeconds(c.Echo)},
	}
	if c.ICEServers != nil {
		servers, err := c.ICEServers("check-" + randomHex(6))
		if err != nil {
			s.log.Warn("check TURN credentials", slog.Any("error", err))
		} else if servers != nil {
			out["ice_servers"] = servers
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func checkEchoSeconds(e Echo) int {
	if e == nil {
		return 0
	}
	return int(e.MaxDuration() / time.Second)
}

// checkEcho answers POST /api/check/echo: the page's offer, answered by an echo session.
func (s *Server) checkEcho(w http.ResponseWriter, r *http.Request) {
	if !s.checkOrigin(w, r) {
		return
	}
	if s.check.Echo == nil {
		writeError(w, http.StatusServiceUnavailable, "echo_unavailable", "this server has no media echo")
		return
	}
	var in struct {
		SDP string `json:"sdp"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	ip, now := clientIP(r, s.cfg.HTTP.TrustProxy), s.now()
	slot := s.checkLimits.running.take(ip, now, s.check.Echo.Stats)
	if slot == nil {
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many echo sessions at once from this address: end one, or wait a few seconds")
		return
	}
	if !s.checkLimits.echo.allow(ip, now) {
		s.checkLimits.running.drop(ip, slot)
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many echo sessions from this address: try again in a minute")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	id, answer, err := s.check.Echo.Start(ctx, in.SDP)
	if err != nil {
		s.checkLimits.running.drop(ip, slot)
	} else {
		s.checkLimits.running.started(slot, id)
	}
	switch {
	case errors.Is(err, media.ErrBadSDP):
		writeError(w, http.StatusBadRequest, "bad_sdp", "the offer can't be used: one audio (Opus) and/or one video (VP8) section")
		return
	case errors.Is(err, media.ErrEchoBusy):
		writeError(w, http.StatusServiceUnavailable, "echo_busy", "too many checks are running: try again in a few seconds")
		return
	case err != nil:
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"echo_id": id, "sdp": answer,
		"max_seconds": checkEchoSeconds(s.check.Echo)})
}

// checkEchoStats answers GET /api/check/echo/{id}: what the relay received from that session.
func (s *Server) checkEchoStats(w http.ResponseWriter, r *http.Request) {
	if !s.checkOrigin(w, r) {
		return
	}
	if s.check.Echo == nil {
		writeError(w, http.StatusNotFound, "not_found", "no such echo session")
		return
	}
	id := r.PathValue("id")
	st, err := s.check.Echo.Stats(id)
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "no such echo session (they are kept 30 s after they end)")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID string `json:"echo_id"`
		media.EchoStats
	}{id, st})
}

// checkEchoEnd answers DELETE /api/check/echo/{id}: the page is done with that session (it has closed its
// connection). The relay ends the session, which no longer counts among its address's running sessions.
func (s *Server) checkEchoEnd(w http.ResponseWriter, r *http.Request) {
	if !s.checkOrigin(w, r) {
		return
	}
	id := r.PathValue("id")
	if s.check.Echo == nil || !s.checkLimits.running.owns(clientIP(r, s.cfg.HTTP.TrustProxy), id) {
		writeError(w, http.StatusNotFound, "not_found", "no such echo session from this address")
		return
	}
	_ = s.check.Echo.End(id) // it may have reached its maximum duration meanwhile
	w.WriteHeader(http.StatusNoContent)
}

// checkPreflight answers the browser's CORS preflight for the check's API.
func (s *Server) checkPreflight(w http.ResponseWriter, r *http.Request) {
	if !s.checkOrigin(w, r) {
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// checkOrigin lets Parley's own pages use the check's API, and the allowed origins of the site named by the "site"
// parameter, as the widget's API does. It writes the error answer itself when it returns false.
func (s *Server) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	if s.sameOrigin(r) {
		return true
	}
	if _, ok := s.siteFor(w, r, r.URL.Query().Get("site")); !ok {
		return false
	}
	allowCORS(w, r)
	return true
}

// clientIP is the address a request came from: the proxy's last X-Forwarded-For entry when the proxy is trusted.
func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkLimits are the check API's per-address limits.
type checkLimits struct {
	config, echo, socket *windowLimiter
	running              *echoSlots
}

func newCheckLimits(echoSeconds time.Duration) checkLimits {
	if echoSeconds <= 0 {
		echoSeconds = 10 * time.Second
	}
	return checkLimits{
		config:  newWindowLimiter(checkConfigPerMinute, time.Minute),
		echo:    newWindowLimiter(checkEchoPerMinute, time.Minute),
		socket:  newWindowLimiter(checkSocketPerMinute, time.Minute),
		running: newEchoSlots(checkEchoAtOnce, echoSeconds),
	}
}

// echoSlots counts the echo sessions each address has running. A session runs until the relay ends it (at its
// maximum duration, or when its page ends it), and at the latest until that duration, and a little more for its
// start, is over.
type echoSlots struct {
	max    int
	maxAge time.Duration

	mu        sync.Mutex
	byIP      map[string][]*echoSlot
	lastSweep time.Time
}

type echoSlot struct {
	id    string // "" while the session starts
	since time.Time
}

// echoStats is what the relay says of a session (Echo.Stats).
type echoStats func(id string) (media.EchoStats, error)

func newEchoSlots(max int, sessionMax time.Duration) *echoSlots {
	return &echoSlots{max: max, maxAge: sessionMax + 5*time.Second, byIP: map[string][]*echoSlot{}}
}

// take reserves a slot for a new session of ip, or returns nil when ip has max sessions running.
func (l *echoSlots) take(ip string, now time.Time, stats echoStats) *echoSlot {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	var live []*echoSlot
	for _, slot := range l.byIP[ip] {
		if l.runs(slot, now, stats) {
			live = append(live, slot)
		}
	}
	if len(live) >= l.max {
		l.byIP[ip] = live
		return nil
	}
	slot := &echoSlot{since: now}
	l.byIP[ip] = append(live, slot)
	return slot
}

// runs says whether a slot's session is still running; l.mu is held.
func (l *echoSlots) runs(slot *echoSlot, now time.Time, stats echoStats) bool {
	if now.Sub(slot.since) >= l.maxAge {
		return false
	}
	if slot.id == "" {
		return true
	}
	st, err := stats(slot.id)
	return err == nil && !st.Ended
}

// started names the session a slot holds.
func (l *echoSlots) started(slot *echoSlot, id string) {
	l.mu.Lock()
	slot.id = id
	l.mu.Unlock()
}

// drop frees a slot whose session didn't start.
func (l *echoSlots) drop(ip string, slot *echoSlot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	slots := l.byIP[ip]
	for i, s := range slots {
		if s == slot {
			slots = append(slots[:i:i], slots[i+1:]...)
			break
		}
	}
	if len(slots) == 0 {
		delete(l.byIP, ip)
	} else {
		l.byIP[ip] = slots
	}
}

// owns says whether id is one of ip's sessions.
func (l *echoSlots) owns(ip, id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, slot := range l.byIP[ip] {
		if slot.id == id && id != "" {
			return true
		}
	}
	return false
}

// sweep forgets, once per maxAge, the addresses whose sessions have all outlived it; l.mu is held.
func (l *echoSlots) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.maxAge {
		return
	}
	l.lastSweep = now
	for ip, slots := range l.byIP {
		old := true
		for _, slot := range slots {
			old = old && now.Sub(slot.since) >= l.maxAge
		}
		if old {
			delete(l.byIP, ip)
		}
	}
}

// windowLimiter allows max events per key in each window (a fixed window: a burst of twice max across a window's
// edge is possible, and harmless here).
type windowLimiter struct {
	max    int
	window time.Duration

	mu    sync.Mutex
	start time.Time
	seen  map[string]int
}

func newWindowLimiter(max int, window time.Duration) *windowLimiter {
	return &windowLimiter{max: max, window: window, seen: map[string]int{}}
}

func (l *windowLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.window {
		l.start, l.seen = now, map[string]int{}
	}
	if l.seen[key] >= l.max {
		return false
	}
	l.seen[key]++
	return true
}
