package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/call"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/metrics"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// helloTimeout is how long a new socket has to send its hello.
const helloTimeout = 10 * time.Second

// Hub serves every WebSocket of this node.
type Hub struct {
	cfg      config.RealtimeConfig
	store    *store.Store
	chat     *chat.Service
	router   *routing.Engine
	calls    *call.Service
	notifier *notify.Notifier
	bus      bus.Bus
	signer   *auth.VisitorSigner
	metrics  *metrics.Metrics
	log      *slog.Logger
	now      func() time.Time
	nodeID   string

	visitorLimits *keyedLimiter
	siteLimits    *keyedLimiter
	fileLimits    *keyedLimiter

	mu    sync.Mutex
	conns map[*conn]struct{}
}

// Deps are what the hub needs.
type Deps struct {
	Config   config.RealtimeConfig
	Store    *store.Store
	Chat     *chat.Service
	Router   *routing.Engine
	Calls    *call.Service
	Notifier *notify.Notifier
	Bus      bus.Bus
	Signer   *auth.VisitorSigner
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	Now      func() time.Time
	NodeID   string
}

// NewHub builds the hub.
func NewHub(d Deps) *Hub {
	return &Hub{cfg: d.Config, store: d.Store, chat: d.Chat, router: d.Router, calls: d.Calls, notifier: d.Notifier, bus: d.Bus, signer: d.Signer, metrics: d.Metrics,
		log: d.Log, now: d.Now, nodeID: d.NodeID, conns: map[*conn]struct{}{},
		visitorLimits: newKeyedLimiter(d.Config.VisitorRate, d.Config.VisitorBurst),
		siteLimits:    newKeyedLimiter(d.Config.SiteRate, d.Config.SiteBurst),
		fileLimits:    newKeyedLimiter(fileRate, fileBurst)}
}

// Run does the hub's housekeeping until ctx ends: forgetting idle rate-limit buckets and stale desk rows.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := h.now()
			h.visitorLimits.sweep(now)
			h.siteLimits.sweep(now)
			h.fileLimits.sweep(now)
			if err := h.store.DropStaleDeskConnections(ctx, now.Add(-10*time.Minute)); err != nil {
				h.log.Warn("drop stale desk connections", slog.Any("error", err))
			}
		}
	}
}

func (h *Hub) track(c *conn, open bool) {
	h.mu.Lock()
	if open {
		h.conns[c] = struct{}{}
	} else {
		delete(h.conns, c)
	}
	h.mu.Unlock()
	if open {
		h.metrics.Connections.WithLabelValues(c.role).Inc()
	} else {
		h.metrics.Connections.WithLabelValues(c.role).Dec()
	}
}

// shutdownWait bounds how long Shutdown waits for the requests under way on the sockets it closed.
const shutdownWait = 10 * time.Second

// Shutdown closes every socket with code 4000, so clients reconnect (to another node, or to this one restarted),
// and waits for the requests they had under way to finish, so they don't meet a closed store.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); c.close(DisconnectShutdown, "server shutting down") }()
	}
	wg.Wait()
	// A connection is untracked when its reader returns, which it does once its request, if any, is done.
	for deadline := time.Now().Add(shutdownWait); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		h.mu.Lock()
		running := slices.ContainsFunc(conns, func(c *conn) bool { _, ok := h.conns[c]; return ok })
		h.mu.Unlock()
		if !running {
			return
		}
	}
	h.log.Warn("shutdown: requests still under way after " + shutdownWait.String())
}

// accept upgrades the request. Origins are checked by the caller before, so the library's own check is off.
func (h *Hub) accept(w http.ResponseWriter, r *http.Request) (*websocket.Conn, error) {
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	// Frames over MaxFrameBytes get error 102 and the connection lives; only far larger ones (a broken or hostile
	// client) end it, because the library must read a frame whole before we can look at it.
	ws.SetReadLimit(int64(h.cfg.MaxFrameBytes) * 8)
	return ws, nil
}

// readHello waits for the hello frame. On failure the socket is closed and ok is false.
func (h *Hub) readHello(ws *websocket.Conn) (envelope, helloData, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), helloTimeout)
	defer cancel()
	_, data, err := ws.Read(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			closeEarly(ws, DisconnectNoHello, "hello not received in time")
		}
		ws.CloseNow()
		return envelope{}, helloData{}, false
	}
	var env envelope
	var hello helloData
	if json.Unmarshal(data, &env) != nil || env.Type != "hello" || env.V != Version {
		writeEarly(ws, outFrame{V: Version, Type: "error", ID: env.ID, Data: perr(CodeHelloRequired, "the first frame must be a v1 hello")})
		closeEarly(ws, DisconnectNoHello, "hello required")
		return envelope{}, helloData{}, false
	}
	if len(env.Data) > 0 && json.Unmarshal(env.Data, &hello) != nil {
		writeEarly(ws, outFrame{V: Version, Type: "error", ID: env.ID, Data: perr(CodeBadRequest, "malformed hello")})
		closeEarly(ws, DisconnectNoHello, "malformed hello")
		return envelope{}, helloData{}, false
	}
	if len(hello.Resume) > 200 {
		hello.Resume = nil // a client never shows that many conversations; don't let it make us read them all
	}
	return env, hello, true
}

func writeEarly(ws *websocket.Conn, f outFrame) {
	data, _ := json.Marshal(f)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ws.Write(ctx, websocket.MessageText, data)
}

// closeEarly refuses a socket before it was served.
func closeEarly(ws *websocket.Conn, code int, reason string) {
	writeEarly(ws, outFrame{V: Version, Type: "disconnect", Data: disconnectData{Code: code, Reason: reason, Reconnect: code < 4500}})
	ws.Close(websocket.StatusCode(code), reason)
}

// limitMessage applies the per-connection, per-visitor and per-site message limits.
func (h *Hub) limitMessage(c *conn, visitorID, siteID string, now time.Time) error {
	limited := func(wait time.Duration) error {
		e := perr(CodeRateLimited, "too many messages; slow down")
		e.Retry, e.RetryAfterMS = true, max(wait.Milliseconds(), 1)
		return e
	}
	if ok, wait := c.msgs.take(now); !ok {
		return limited(wait)
	}
	if visitorID != "" {
		if ok, wait := h.visitorLimits.take(visitorID, now); !ok {
			return limited(wait)
		}
	}
	if siteID != "" {
		if ok, wait := h.siteLimits.take(siteID, now); !ok {
			return limited(wait)
		}
	}
	return nil
}

// Files sent in a chat (over HTTP, not the socket) have a limit of their own, per sender: each may be megabytes.
const (
	fileRate  = 0.2 // a file every 5 s, once the burst is spent
	fileBurst = 10
)

// AllowFile applies the limit on files sent to a sender (a visitor's or an agent's id) and to the visitor's site
// (siteID, "" for an agent). When it refuses, wait says when to try again.
func (h *Hub) AllowFile(senderID, siteID string) (ok bool, wait time.Duration) {
	now := h.now()
	if ok, wait := h.fileLimits.take(senderID, now); !ok {
		return false, wait
	}
	if siteID != "" {
		if ok, wait := h.siteLimits.take(siteID, now); !ok {
			return false, wait
		}
	}
	return true, 0
}

// decode reads a request's data strictly: an unknown field (say, an agent_id to act for someone else) is refused
// rather than ignored.
func decode(env envelope, v any) error {
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	dec.DisallowUnknownFields()
	if len(env.Data) == 0 || dec.Decode(v) != nil {
		return perr(CodeBadRequest, "malformed data for "+env.Type+": see docs/protocol.md for its fields")
	}
	return nil
}

// sendMessage runs a message.send request for either side: it decodes and checks the frame, applies the limits
// (visitorID and siteID are empty for agents), stores the message through save, and returns the ack.
func (h *Hub) sendMessage(c *conn, env envelope, received time.Time, visitorID, siteID string,
	save func(sendData) (store.Appended, error)) (any, error) {
	var d sendData
	if err := decode(env, &d); err != nil {
		return nil, err
	}
	if len(d.ClientMsgID) > 64 {
		return nil, perr(CodeBadRequest, "client_msg_id is longer than 64 characters")
	}
	if err := h.limitMessage(c, visitorID, siteID, received); err != nil {
		return nil, err
	}
	res, err := save(d)
	if err != nil {
		return nil, chatError(err)
	}
	return sendAck{ConversationID: res.Conversation.ID, Seq: res.Last().Seq, Duplicate: res.Duplicate}, nil
}
