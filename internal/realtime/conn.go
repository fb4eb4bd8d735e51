package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// handler is what differs between a visitor's and an agent's connection.
type handler interface {
	// request answers one client request with the ack's data, or an error (a *protoError, or any other error,
	// which becomes an internal error).
	request(ctx context.Context, c *conn, env envelope, received time.Time) (any, error)
	// visible reports whether a bus notice is for this connection.
	visible(n *notify.Notice) bool
	// tick runs on every heartbeat, in the writer.
	tick(ctx context.Context, c *conn)
	// revoked re-checks the connection's credentials; false closes it.
	revoked(ctx context.Context) bool
	// queued sees the visitor's queue state on its way out.
	queued(q *notify.QueueView)
	// closed releases what the connection held.
	closed()
}

// conn is one WebSocket. The reader goroutine runs requests. Everything the connection sends goes through its
// outbox, whose writer (started on demand) owns the socket's writes and lastSeq, so frames of one conversation
// leave in seq order, each once. A timer, not a goroutine, drives heartbeats: an idle connection costs one
// goroutine.
type conn struct {
	hub     *Hub
	ws      *websocket.Conn
	role    string
	h       handler
	ctx     context.Context
	cancel  context.CancelFunc
	out     *outbox
	beat    *time.Timer
	heard   atomic.Int64 // unix nanos of the last frame received
	subs    []bus.Subscription
	closing sync.Once

	// trackNew: an event of a conversation this connection hasn't seen starts from seq 0 (a visitor gets all of
	// a conversation). Otherwise (a desk) it is forwarded and tracked from there on.
	trackNew bool
	lastSeq  map[string]int64 // writer only

	msgs      bucket // messages per connection; reader only
	frames    bucket // frames of any kind per connection; reader only
	badFrames int    // consecutive bad frames; reader only
}

// requestTimeout bounds one request's work, which the socket closing doesn't stop.
const requestTimeout = 30 * time.Second

func (h *Hub) newConn(ws *websocket.Conn, role string, resume map[string]int64) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	now := h.now()
	c := &conn{hub: h, ws: ws, role: role, ctx: ctx, cancel: cancel, lastSeq: resume,
		msgs:   newBucket(h.cfg.ConnRate, h.cfg.ConnBurst, now),
		frames: newBucket(h.cfg.ConnRate*10, h.cfg.ConnBurst*5, now)}
	if c.lastSeq == nil {
		c.lastSeq = map[string]int64{}
	}
	c.out = newOutbox(h.cfg.SendQueue, c.writeItems)
	c.heard.Store(now.UnixNano())
	return c
}

// subscribe routes a bus subject's notices to this connection's writer.
func (c *conn) subscribe(subject string) error {
	sub, err := c.hub.bus.Subscribe(subject, func(_ string, data []byte) {
		var n notify.Notice
		if err := json.Unmarshal(data, &n); err != nil {
			c.hub.log.Warn("bad bus notice", slog.String("subject", subject), slog.Any("error", err))
			return
		}
		if !c.h.visible(&n) {
			return
		}
		c.enqueue(item{notice: &n})
	})
	if err != nil {
		return err
	}
	c.subs = append(c.subs, sub)
	return nil
}

// enqueue hands an item to the writer, and drops a connection too slow to keep up.
func (c *conn) enqueue(it item) {
	if !c.out.push(it) {
		go c.close(DisconnectSlow, "too slow: frames were not read in time")
	}
}

func (c *conn) send(f outFrame) { c.enqueue(item{frame: &f}) }

func (c *conn) sendError(id string, e *protoError) {
	c.hub.metrics.Errors.WithLabelValues(strconv.Itoa(e.Code)).Inc()
	c.send(outFrame{V: Version, Type: "error", ID: id, Data: e})
}

// run serves the connection until it ends. The hello has been handled; the ack is queued.
func (c *conn) run() {
	c.hub.track(c, true)
	defer c.hub.track(c, false)
	c.beat = time.AfterFunc(c.hub.cfg.PingInterval, c.heartbeat)
	defer c.beat.Stop()
	c.reader()
	c.close(websocket.StatusNormalClosure, "")
}

func (c *conn) reader() {
	max := c.hub.cfg.MaxFrameBytes
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return
		}
		now := c.hub.now()
		c.heard.Store(now.UnixNano())
		if ok, _ := c.frames.take(now); !ok {
			c.bad("", perr(CodeRateLimited, "too many frames"))
			continue
		}
		if len(data) > max {
			c.bad("", perr(CodeFrameTooLarge, "frame is larger than "+strconv.Itoa(max)+" bytes"))
			continue
		}
		if typ != websocket.MessageText {
			c.bad("", perr(CodeBadRequest, "frames must be JSON text"))
			continue
		}
		var env envelope
		if err := json.Unmarshal(data, &env); err != nil || env.Type == "" {
			c.bad("", perr(CodeBadRequest, "malformed frame: expected a JSON envelope with a type"))
			continue
		}
		if len(env.ID) > 64 {
			c.bad("", perr(CodeBadRequest, "id is longer than 64 characters"))
			continue
		}
		if env.V != Version {
			c.bad(env.ID, perr(CodeUnsupportedVersion, "unsupported protocol version; this server speaks v1"))
			continue
		}
		c.hub.metrics.Frames.WithLabelValues(frameLabel(env.Type)).Inc()
		switch env.Type {
		case "pong":
			continue
		case "ping":
			c.send(outFrame{V: Version, Type: "pong", ID: env.ID})
			continue
		case "hello":
			c.bad(env.ID, perr(CodeHelloRequired, "hello was already received"))
			continue
		}
		// A request once read is carried out whole, even if the socket goes meanwhile (a write to it fails, the
		// client leaves, the server shuts down): stopping halfway would leave, say, a conversation ended whose
		// routing request still holds the agent.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), requestTimeout)
		ack, err := c.h.request(rctx, c, env, now)
		cancel()
		if err != nil {
			var pe *protoError
			if !errors.As(err, &pe) {
				c.hub.log.Error("request failed", slog.String("type", env.Type), slog.String("role", c.role), slog.Any("error", err))
				pe = perr(CodeInternal, "internal error; try again")
			}
			c.bad(env.ID, pe)
			continue
		}
		c.badFrames = 0
		if ack != nil {
			c.send(outFrame{V: Version, Type: "ack", ID: env.ID, Data: ack})
		}
	}
}

// bad answers a refused frame. Too many in a row means a broken or hostile client, which is disconnected.
func (c *conn) bad(id string, e *protoError) {
	c.sendError(id, e)
	if e.Code == CodeInternal || e.Code == CodeRateLimited {
		return
	}
	c.badFrames++
	if c.badFrames >= 20 {
		go c.close(DisconnectBadFrames, "too many bad frames")
	}
}

// frameLabel keeps the metric's label set small whatever clients send.
func frameLabel(t string) string {
	switch t {
	case "hello", "message.send", "typing", "read", "conversation.end", "ping", "pong", "presence.set", "offer.accept",
		"offer.decline", "conversation.claim", "queue.leave", "contact.leave", "call.request", "call.connect",
		"call.candidate", "call.media", "call.hangup", "call.invite", "call.invite.answer":
		return t
	}
	return "unknown"
}

// writeItems is the outbox's writer.
func (c *conn) writeItems(items []item) {
	for _, it := range items {
		if c.ctx.Err() != nil {
			return
		}
		if err := c.do(it); err != nil {
			go c.close(websocket.StatusGoingAway, "write failed")
			return
		}
	}
}

// heartbeat runs every PingInterval: it closes a silent connection, lets the role do its periodic work, and pings.
func (c *conn) heartbeat() {
	if c.ctx.Err() != nil {
		return
	}
	if c.hub.now().Sub(time.Unix(0, c.heard.Load())) > c.hub.cfg.IdleTimeout {
		c.close(DisconnectNoHeartbeat, "no heartbeat")
		return
	}
	c.h.tick(c.ctx, c)
	c.send(outFrame{V: Version, Type: "ping"})
	c.beat.Reset(c.hub.cfg.PingInterval)
}

func (c *conn) do(it item) error {
	switch {
	case it.frame != nil:
		return c.write(*it.frame)
	case it.catch != "":
		return c.catchUp(it.catch)
	case it.notice != nil:
		return c.deliver(it.notice)
	}
	return nil
}

func (c *conn) write(f outFrame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, data)
}

// deliver sends a bus notice, keeping each conversation's events in order and each event once.
func (c *conn) deliver(n *notify.Notice) error {
	switch n.Kind {
	case notify.KindTyping:
		return c.write(outFrame{V: Version, Type: "typing", Data: n.Typing})
	case notify.KindRead:
		return c.write(outFrame{V: Version, Type: "read", Data: n.Read})
	case notify.KindConversation:
		return c.write(outFrame{V: Version, Type: "conversation", Data: n.Conversation})
	case notify.KindOffer:
		return c.write(outFrame{V: Version, Type: "offer", Data: n.Offer})
	case notify.KindOfferEnded:
		return c.write(outFrame{V: Version, Type: "offer.ended", Data: n.OfferEnded})
	case notify.KindPresence:
		return c.write(outFrame{V: Version, Type: "presence", Data: n.Presence})
	case notify.KindNote:
		return c.write(outFrame{V: Version, Type: "note", Data: n.Note})
	case notify.KindQueue:
		c.h.queued(n.Queue)
		return c.write(outFrame{V: Version, Type: "queue", Data: n.Queue})
	case notify.KindRevoke:
		if c.h.revoked(c.ctx) {
			go c.close(DisconnectSessionEnded, "session ended")
		}
		return nil
	case notify.KindEvent:
	default:
		_, err := c.deliverCall(n)
		return err
	}
	e := n.Event
	last, tracked := c.lastSeq[e.ConversationID]
	switch {
	case !tracked && !c.trackNew:
		// A desk hears of a conversation it hasn't loaded: the desk fetches the transcript itself.
	case e.Seq <= last:
		return nil // already sent
	case e.Seq > last+1:
		return c.catchUp(e.ConversationID) // a notice was missed or overtaken: read the gap from the store
	}
	if err := c.write(outFrame{V: Version, Type: "event", Seq: e.Seq, Data: e}); err != nil {
		return err
	}
	c.lastSeq[e.ConversationID] = e.Seq
	if n.ReceivedAt > 0 {
		c.hub.metrics.DeliveryLatency.Observe(c.hub.now().Sub(time.Unix(0, n.ReceivedAt)).Seconds())
	}
	return nil
}

// catchUp sends, from the store, every event of the conversation after the last one this connection sent.
func (c *conn) catchUp(convID string) error {
	for {
		after := c.lastSeq[convID]
		evs, err := c.hub.store.Events(c.ctx, convID, after, 500)
		if err != nil {
			return err
		}
		for _, e := range evs {
			v := notify.ViewEvent(e)
			if err := c.write(outFrame{V: Version, Type: "event", Seq: e.Seq, Data: v}); err != nil {
				return err
			}
			c.lastSeq[convID] = e.Seq
		}
		if len(evs) < 500 {
			return nil
		}
	}
}

// close ends the connection once: a disconnect frame, then the WebSocket close with the same code.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.closing.Do(func() {
		for _, s := range c.subs {
			s.Unsubscribe()
		}
		if code >= 4000 {
			c.hub.metrics.Disconnects.WithLabelValues(strconv.Itoa(int(code))).Inc()
			d := disconnectData{Code: int(code), Reason: reason, Reconnect: code < 4500}
			data, _ := json.Marshal(outFrame{V: Version, Type: "disconnect", Data: d})
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			c.ws.Write(ctx, websocket.MessageText, data)
			cancel()
		}
		// Close before cancelling: a cancelled read drops the connection at once, and the client would see no close
		// code at all instead of ours.
		c.ws.Close(code, reason)
		c.cancel()
		c.h.closed()
	})
}

// isGone reports whether a store error means the thing no longer exists.
func isGone(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDisabled)
}
