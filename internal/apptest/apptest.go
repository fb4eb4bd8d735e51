// Package apptest starts a real Parley node for tests: the real store (SQLite in a temp dir, or PostgreSQL when
// PARLEY_TEST_POSTGRES_URL is set and asked for), the real bus, HTTP server and sockets, seeded with the demo data.
// It also has a small protocol client for driving sockets from Go.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/internal/app"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
)

// Env is a running node.
type Env struct {
	URL   string       // http://127.0.0.1:PORT
	Site  store.Site   // the demo site
	Store *store.Store // a second handle on the node's database, for assertions
	Cfg   config.Config

	t    testing.TB
	stop func()
}

// Start runs a node until the test ends. tweak, if not nil, adjusts the config first.
func Start(t testing.TB, tweak func(*config.Config)) *Env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Level = "warn"
	// Each node's media relay on free loopback ports, so tests run side by side.
	cfg.Media.UDPPort, cfg.Media.TCPPort, cfg.Media.ListenIP = 0, 0, "127.0.0.1"
	cfg.TURN.UDPPort, cfg.TURN.TLSPort = 0, 0 // TLS stays off: no certificate
	if tweak != nil {
		tweak(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := &Env{Cfg: cfg, t: t}
	e.run()
	t.Cleanup(func() { e.stop() })
	st, err := store.Open(context.Background(), cfg.Database.URL, cfg.DataDir, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.Store = st
	return e
}

// run starts the node on e.Cfg and waits until it listens.
func (e *Env) run() {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	seed := func(ctx context.Context, st *store.Store, addr string) (string, error) {
		var err error
		e.Site, err = demo.Seed(ctx, st, addr)
		return e.Site.PublicID, err
	}
	log := app.NewLogger(e.Cfg.Log, testWriter{t})
	go func() { done <- app.Run(ctx, e.Cfg, log, seed, ready) }()
	select {
	case addr := <-ready:
		e.URL = "http://" + addr
		e.Cfg.HTTP.Addr = addr // a restart comes back on the same port
	case err := <-done:
		cancel()
		t.Fatalf("parley did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("parley did not start in 30s")
	}
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Error("parley did not stop in 20s")
			}
		})
	}
}

// Stop stops the node, as an operator stopping Parley would: sockets are closed with code 4000.
func (e *Env) Stop() { e.stop() }

// Resume starts a stopped node again, on the same address and database.
func (e *Env) Resume() {
	e.t.Helper()
	e.run()
}

// testWriter sends the node's logs to the test log, so they show only when a test fails.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// DataPath is the SQLite file of a node started by Start.
func (e *Env) DataPath() string { return filepath.Join(e.Cfg.DataDir, "parley.db") }

// HTTP is a browser-like client: it keeps cookies and sends Parley's origin.
type HTTP struct {
	t      testing.TB
	env    *Env
	Client *http.Client
	CSRF   string
	Origin string
}

// NewHTTP returns a client with its own cookie jar.
func (e *Env) NewHTTP(t testing.TB) *HTTP {
	jar, _ := cookiejar.New(nil)
	return &HTTP{t: t, env: e, Client: &http.Client{Jar: jar, Timeout: 10 * time.Second}, Origin: e.URL}
}

// Do sends a JSON request and decodes the JSON answer into out (when not nil). It returns the status.
func (h *HTTP) Do(method, path string, body, out any) int {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.env.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if h.Origin != "" {
		req.Header.Set("Origin", h.Origin)
	}
	if h.CSRF != "" {
		req.Header.Set("X-CSRF-Token", h.CSRF)
	}
	resp, err := h.Client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// Login logs in and keeps the CSRF token.
func (h *HTTP) Login(email, password string) {
	h.t.Helper()
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	if st := h.Do("POST", "/api/auth/login", map[string]string{"email": email, "password": password}, &out); st != 200 {
		h.t.Fatalf("login %s: status %d", email, st)
	}
	h.CSRF = out.CSRF
}

// VisitorToken asks for a new visitor's token on the demo site.
func (e *Env) VisitorToken(t testing.TB) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	h := e.NewHTTP(t)
	if st := h.Do("POST", "/api/widget/session", map[string]string{"site": e.Site.PublicID}, &out); st != 200 {
		t.Fatalf("visitor session: status %d", st)
	}
	return out.Token
}

// IdentitySecret is the key the demo site signs its signed-in visitors' e-mail addresses with.
func (e *Env) IdentitySecret(t testing.TB) string {
	t.Helper()
	secret, err := e.Store.IdentitySecret(context.Background(), e.Site.ID)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// Frame is a protocol frame as the client sees it.
type Frame struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Seq  int64           `json:"seq,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Decode unmarshals the frame's data.
func (f Frame) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(f.Data, v); err != nil {
		t.Fatalf("decode %s frame %s: %v", f.Type, f.Data, err)
	}
}

// Socket is a protocol client.
type Socket struct {
	t      testing.TB
	WS     *websocket.Conn
	frames chan Frame
	// Closed receives the close status when the server closes the socket.
	Closed chan websocket.StatusCode
	// Skip lists the frame types Next passes over. By default: pings, typing, summaries, presence and queue
	// updates and video availability, which most tests don't look at.
	Skip map[string]bool
}

// DialVisitor opens a visitor socket on the demo site from origin, without saying hello.
func (e *Env) DialVisitor(t testing.TB, origin string) (*Socket, *http.Response, error) {
	return e.Dial(t, "/ws/visitor?site="+e.Site.PublicID, origin, nil)
}

// DialDesk opens a desk socket with h's session cookie, without saying hello.
func (e *Env) DialDesk(t testing.TB, h *HTTP) (*Socket, *http.Response, error) {
	return e.Dial(t, "/ws/desk", e.URL, h.Client)
}

// OpenDesk logs an agent of the demo in (with the demo password) and opens their desk socket, hello said.
func (e *Env) OpenDesk(t testing.TB, email string) *Socket {
	t.Helper()
	h := e.NewHTTP(t)
	h.Login(email, demo.Password)
	s, _, err := e.DialDesk(t, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Hello(map[string]any{})
	return s
}

// Dial opens a socket on path from origin, with client's cookies when client is not nil.
func (e *Env) Dial(t testing.TB, path, origin string, client *http.Client) (*Socket, *http.Response, error) {
	t.Helper()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http")+path, &websocket.DialOptions{HTTPHeader: hdr, HTTPClient: client})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(1 << 20)
	s := &Socket{t: t, WS: ws, frames: make(chan Frame, 1024), Closed: make(chan websocket.StatusCode, 1),
		Skip: map[string]bool{"ping": true, "typing": true, "conversation": true, "presence": true, "queue": true, "video": true}}
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				s.Closed <- websocket.CloseStatus(err)
				close(s.frames)
				return
			}
			var f Frame
			if json.Unmarshal(data, &f) == nil {
				s.frames <- f
			}
		}
	}()
	t.Cleanup(func() { ws.CloseNow() })
	return s, resp, nil
}

// Send writes one frame; data is marshalled unless it is a string, which is sent raw.
func (s *Socket) Send(typ, id string, data any) {
	s.t.Helper()
	var raw []byte
	if str, ok := data.(string); ok {
		raw = []byte(str)
	} else {
		d, _ := json.Marshal(data)
		raw, _ = json.Marshal(map[string]any{"v": 1, "type": typ, "id": id, "data": json.RawMessage(d)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WS.Write(ctx, websocket.MessageText, raw); err != nil {
		s.t.Fatalf("write %s: %v", typ, err)
	}
}

// Next returns the next frame whose type is not in Skip, failing the test after 10 s.
func (s *Socket) Next() Frame {
	s.t.Helper()
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				s.t.Fatal("socket closed while waiting for a frame")
			}
			if s.Skip[f.Type] {
				continue
			}
			return f
		case <-time.After(10 * time.Second):
			s.t.Fatal("no frame in 10s")
		}
	}
}

// Recv returns the next frame of any type, waiting as long as it takes; ok is false once the socket has closed.
// For clients that read in the background.
func (s *Socket) Recv() (Frame, bool) {
	f, ok := <-s.frames
	return f, ok
}

// Expect returns the next frame, which must be of type typ (and answer id, when id is not empty).
func (s *Socket) Expect(typ, id string) Frame {
	s.t.Helper()
	f := s.Next()
	if f.Type != typ || (id != "" && f.ID != id) {
		s.t.Fatalf("got %s frame (id %q) %s, want %s (id %q)", f.Type, f.ID, f.Data, typ, id)
	}
	return f
}

// ExpectError returns the next frame's error code, which must be code.
func (s *Socket) ExpectError(id string, code int) {
	s.t.Helper()
	f := s.Expect("error", id)
	var e struct {
		Code int `json:"code"`
	}
	f.Decode(s.t, &e)
	if e.Code != code {
		s.t.Fatalf("error %s, want code %d", f.Data, code)
	}
}

// ExpectClose waits for the server to close the socket and returns the close code.
func (s *Socket) ExpectClose() websocket.StatusCode {
	s.t.Helper()
	go func() {
		for range s.frames {
		}
	}()
	select {
	case code := <-s.Closed:
		return code
	case <-time.After(15 * time.Second):
		s.t.Fatal("socket not closed in 15s")
	}
	return 0
}

// Hello says hello and returns the ack's data.
func (s *Socket) Hello(data any) json.RawMessage {
	s.t.Helper()
	s.Send("hello", "hello", data)
	return s.Expect("ack", "hello").Data
}
