package call_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/store"
)

// These tests run a real Parley node (SQLite, the in-process bus, the relay on loopback) and drive it over its
// sockets, with pion peers in place of the browsers: the signalling, the relay and the media are all real.

type callView struct {
	CallID         string `json:"call_id"`
	ConversationID string `json:"conversation_id"`
	State          string `json:"state"`
	AgentID        string `json:"agent_id"`
	AgentName      string `json:"agent_name"`
	EndedBy        string `json:"ended_by"`
	Reason         string `json:"reason"`
}

type offerView struct {
	OfferID        string `json:"offer_id"`
	ConversationID string `json:"conversation_id"`
	Channel        string `json:"channel"`
}

type errorView struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// client is one side of a call: its socket, and the frames it got, by type, read in the background.
type client struct {
	t    *testing.T
	name string
	sock *apptest.Socket

	mu     sync.Mutex
	frames []apptest.Frame
	wake   chan struct{}
	peer   *media.Peer
}

func newClient(t *testing.T, name string, sock *apptest.Socket) *client {
	c := &client{t: t, name: name, sock: sock, wake: make(chan struct{}, 1)}
	sock.Skip = map[string]bool{}
	go func() {
		for {
			f, ok := sock.Recv()
			if !ok {
				return
			}
			c.mu.Lock()
			c.frames = append(c.frames, f)
			peer := c.peer
			c.mu.Unlock()
			if f.Type == "call.candidate" && peer != nil {
				var d struct {
					Candidate *media.Candidate `json:"candidate"`
				}
				if json.Unmarshal(f.Data, &d) == nil && d.Candidate != nil {
					peer.AddCandidate(d.Candidate)
				}
			}
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
	}()
	return c
}

// wait returns the first frame not yet taken that matches, failing after 15 s. Frames before it stay.
func (c *client) wait(what string, match func(apptest.Frame) bool) apptest.Frame {
	c.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		c.mu.Lock()
		for i, f := range c.frames {
			if match(f) {
				c.frames = append(c.frames[:i:i], c.frames[i+1:]...)
				c.mu.Unlock()
				return f
			}
		}
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			c.t.Fatalf("%s: no %s in 15 s", c.name, what)
		}
	}
}

func (c *client) ack(id string) apptest.Frame {
	c.t.Helper()
	f := c.wait("reply to "+id, func(f apptest.Frame) bool { return (f.Type == "ack" || f.Type == "error") && f.ID == id })
	if f.Type == "error" {
		c.t.Fatalf("%s: %s refused: %s", c.name, id, f.Data)
	}
	return f
}

func (c *client) refused(id string) int {
	c.t.Helper()
	f := c.wait("reply to "+id, func(f apptest.Frame) bool { return (f.Type == "ack" || f.Type == "error") && f.ID == id })
	if f.Type != "error" {
		c.t.Fatalf("%s: %s was accepted (%s), want an error", c.name, id, f.Data)
	}
	var e errorView
	f.Decode(c.t, &e)
	return e.Code
}

// callState waits for a call frame in state.
func (c *client) callState(state string) callView {
	c.t.Helper()
	var v callView
	c.wait("call "+state, func(f apptest.Frame) bool {
		if f.Type != "call" {
			return false
		}
		json.Unmarshal(f.Data, &v)
		return v.State == state
	})
	return v
}

func (c *client) offer() offerView {
	c.t.Helper()
	var o offerView
	c.wait("video offer", func(f apptest.Frame) bool {
		if f.Type != "offer" {
			return false
		}
		json.Unmarshal(f.Data, &o)
		return o.Channel == "video"
	})
	return o
}

// connect joins the call's relay with a pion peer that sends synthetic audio and video.
func (c *client) connect(callID string) *media.Peer {
	c.t.Helper()
	return c.connectWith(callID, media.PeerConfig{Video: true, Audio: true, VideoKbps: 300})
}

// connectWith is connect with a peer shaped by cfg.
func (c *client) connectWith(callID string, cfg media.PeerConfig) *media.Peer {
	c.t.Helper()
	return c.join(callID, cfg, false)
}

// takeOver is connect from another tab of the same person that moves the call to it ("Continue here").
func (c *client) takeOver(callID string) *media.Peer {
	c.t.Helper()
	return c.join(callID, media.PeerConfig{Video: true, Audio: true, VideoKbps: 300}, true)
}

func (c *client) join(callID string, cfg media.PeerConfig, takeOver bool) *media.Peer {
	c.t.Helper()
	peer, err := media.NewPeer(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { peer.Close() })
	c.mu.Lock()
	c.peer = peer
	c.mu.Unlock()
	id := "connect-" + callID
	peer.OnCandidate(func(cand *media.Candidate) {
		c.sock.Send("call.candidate", "", map[string]any{"call_id": callID, "candidate": cand})
	})
	sdp, err := peer.Offer()
	if err != nil {
		c.t.Fatal(err)
	}
	c.sock.Send("call.connect", id, map[string]any{"call_id": callID, "sdp": sdp, "take_over": takeOver})
	var a struct {
		SDP string `json:"sdp"`
	}
	c.ack(id).Decode(c.t, &a)
	if err := peer.SetAnswer(a.SDP); err != nil {
		c.t.Fatal(err)
	}
	peer.Start()
	return peer
}

func desk(t *testing.T, env *apptest.Env, email string, video bool) *client {
	t.Helper()
	sock := env.OpenDesk(t, email)
	c := newClient(t, email, sock)
	if video {
		sock.Send("presence.set", "video-on", map[string]any{"channel": "video", "status": "available"})
		c.ack("video-on")
	}
	return c
}

func visitor(t *testing.T, env *apptest.Env) *client {
	t.Helper()
	sock, _, err := env.DialVisitor(t, env.URL)
	if err != nil {
		t.Fatal(err)
	}
	sock.Hello(map[string]any{"token": env.VisitorToken(t)})
	return newClient(t, "visitor", sock)
}

// startChat opens a conversation with a first message and returns its id.
func startChat(v *client) string {
	v.t.Helper()
	v.sock.Send("message.send", "first", map[string]any{"client_msg_id": "first", "body": "Hello, can we talk by video?"})
	var a struct {
		ConversationID string `json:"conversation_id"`
	}
	v.ack("first").Decode(v.t, &a)
	return a.ConversationID
}

// requestCall asks for video in the conversation and returns the call's id.
func requestCall(v *client, convID string) string {
	v.t.Helper()
	v.sock.Send("call.request", "video", map[string]any{"conversation_id": convID, "client_msg_id": "video"})
	var a struct {
		Call callView `json:"call"`
	}
	v.ack("video").Decode(v.t, &a)
	if a.Call.CallID == "" {
		v.t.Fatalf("call.request ack without a call")
	}
	return a.Call.CallID
}

// flowing waits until both peers have received audio and video from the other side, and more keeps coming.
func flowing(t *testing.T, peers ...*media.Peer) {
	t.Helper()
	for _, p := range peers {
		deadline := time.Now().Add(15 * time.Second)
		a0, v0 := p.Received()
		for {
			a, v := p.Received()
			if a > a0+10 && v > v0+10 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("media is not flowing: audio %d, video %d packets", a, v)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// A visitor asks for video, Ana answers, media flows both ways through the relay; the visitor hangs up; the call
// ended message with its quality record is in both transcripts, the chat goes on, and video is not offered again.
func TestCallMediaFlowsAndHangupKeepsTheChat(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := desk(t, env, demo.AnaEmail, true)
	v := visitor(t, env)
	convID := startChat(v)
	callID := requestCall(v, convID)

	o := ana.offer()
	if o.ConversationID != convID {
		t.Fatalf("offer for %s, want %s", o.ConversationID, convID)
	}
	ana.sock.Send("offer.accept", "take", map[string]any{"offer_id": o.OfferID})
	ana.ack("take")
	live := v.callState("live")
	if live.AgentName != "Ana" {
		t.Fatalf("live call %+v", live)
	}
	ana.callState("live")

	vp := v.connect(callID)
	ap := ana.connect(callID)
	flowing(t, vp, ap)

	// Turning the camera off reaches the other side.
	v.sock.Send("call.media", "cam-off", map[string]any{"call_id": callID, "camera": false, "mic": true})
	v.ack("cam-off")
	ana.wait("visitor camera off", func(f apptest.Frame) bool {
		var m struct {
			Side   string `json:"side"`
			Camera bool   `json:"camera"`
		}
		json.Unmarshal(f.Data, &m)
		return f.Type == "call.media" && m.Side == "visitor" && !m.Camera
	})

	v.sock.Send("call.hangup", "bye", map[string]any{"call_id": callID})
	v.ack("bye")
	ended := ana.callState("ended")
	if ended.EndedBy != "visitor" || ended.Reason != "hangup" {
		t.Fatalf("ended call %+v", ended)
	}
	for _, c := range []*client{v, ana} {
		f := c.wait("call_ended event", func(f apptest.Frame) bool {
			var e struct {
				Type string `json:"type"`
			}
			json.Unmarshal(f.Data, &e)
			return f.Type == "event" && e.Type == "call_ended"
		})
		var e struct {
			Data struct {
				DurationMS int64 `json:"duration_ms"`
				EndedBy    string
				Legs       map[string]media.LegStats `json:"legs"`
			} `json:"data"`
		}
		f.Decode(t, &e)
		for _, side := range []string{"visitor", "agent"} {
			leg := e.Data.Legs[side]
			if leg.Packets == 0 || leg.Bytes == 0 || leg.BitrateKbps <= 0 {
				t.Fatalf("%s: call-quality record of the %s leg is empty: %+v", c.name, side, leg)
			}
		}
		if e.Data.DurationMS <= 0 {
			t.Fatalf("%s: call duration %d", c.name, e.Data.DurationMS)
		}
	}

	// The chat goes on in the same conversation.
	v.sock.Send("message.send", "after", map[string]any{"conversation_id": convID, "client_msg_id": "after", "body": "Thanks for the call"})
	v.ack("after")
	ana.wait("message after the call", func(f apptest.Frame) bool {
		var e struct {
			Body string `json:"body"`
		}
		json.Unmarshal(f.Data, &e)
		return f.Type == "event" && e.Body == "Thanks for the call"
	})
	// No second call in this conversation, and the widget is told.
	v.wait("video no longer offered", func(f apptest.Frame) bool {
		var a struct {
			Available bool   `json:"available"`
			Reason    string `json:"reason"`
		}
		json.Unmarshal(f.Data, &a)
		return f.Type == "video" && !a.Available && a.Reason == "used"
	})
	v.sock.Send("call.request", "again", map[string]any{"conversation_id": convID, "client_msg_id": "again"})
	if code := v.refused("again"); code != 110 {
		t.Fatalf("second call: code %d, want 110", code)
	}
}

// Only the call's two participants can connect; a foreign call id, another tab holding the leg, and malformed SDP
// are refused, and the call goes on.
func TestCallRefusesStrangersAndBadSignalling(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := desk(t, env, demo.AnaEmail, true)
	ben := desk(t, env, demo.BenEmail, false)
	v := visitor(t, env)
	convID := startChat(v)
	callID := requestCall(v, convID)
	ana.sock.Send("offer.accept", "take", map[string]any{"offer_id": ana.offer().OfferID})
	ana.ack("take")
	v.callState("live")

	ben.sock.Send("call.connect", "intrude", map[string]any{"call_id": callID, "sdp": "v=0"})
	if code := ben.refused("intrude"); code != 105 {
		t.Fatalf("another agent: code %d, want 105", code)
	}
	v.sock.Send("call.connect", "foreign", map[string]any{"call_id": "ca_doesnotexist", "sdp": "v=0"})
	if code := v.refused("foreign"); code != 105 {
		t.Fatalf("foreign call: code %d, want 105", code)
	}
	v.sock.Send("call.connect", "garbage", map[string]any{"call_id": callID, "sdp": "this is not SDP"})
	if code := v.refused("garbage"); code != 100 {
		t.Fatalf("malformed SDP: code %d, want 100", code)
	}
	v.sock.Send("call.candidate", "bad-field", `{"v":1,"type":"call.candidate","id":"bad-field","data":{"call_id":1}}`)
	if code := v.refused("bad-field"); code != 100 {
		t.Fatalf("malformed candidate frame: code %d, want 100", code)
	}

	vp := v.connect(callID)
	ap := ana.connect(callID)
	flowing(t, vp, ap)

	// A second desk tab of Ana can't take her leg while the first holds it.
	ana2 := desk(t, env, demo.AnaEmail, false)
	ana2.sock.Send("call.connect", "second-tab", map[string]any{"call_id": callID, "sdp": "v=0"})
	if code := ana2.refused("second-tab"); code != 111 {
		t.Fatalf("second tab: code %d, want 111", code)
	}
	flowing(t, vp, ap)

	// Unless it asks to take the call over (its "Continue here"): then media flows between the visitor and the
	// second tab, and the first one can't take the leg back without asking the same.
	ap2 := ana2.takeOver(callID)
	flowing(t, vp, ap2)
	ana.sock.Send("call.connect", "take-back", map[string]any{"call_id": callID, "sdp": "v=0"})
	if code := ana.refused("take-back"); code != 111 {
		t.Fatalf("the first tab after the move: code %d, want 111", code)
	}
	flowing(t, vp, ap2)
}

// A declined call rings the next agent; the visitor stays in the waiting room meanwhile.
func TestDeclinedCallRingsAnotherAgent(t *testing.T) {
	env := apptest.Start(t, nil)
	ana := desk(t, env, demo.AnaEmail, true)
	ben := desk(t, env, demo.BenEmail, true)
	v := visitor(t, env)
	convID := startChat(v)
	requestCall(v, convID)

	// Whoever rings first declines.
	first, second := ana, ben
	o, ok := tryOffer(ana, 3*time.Second)
	if !ok {
		first, second = ben, ana
		o = ben.offer()
	}
	first.sock.Send("offer.decline", "no", map[string]any{"offer_id": o.OfferID})
	first.ack("no")
	o2 := second.offer()
	if o2.ConversationID != convID {
		t.Fatalf("second offer for %s", o2.ConversationID)
	}
	second.sock.Send("offer.accept", "yes", map[string]any{"offer_id": o2.OfferID})
	second.ack("yes")
	if got := v.callState("live"); got.AgentID == "" {
		t.Fatalf("live call without agent: %+v", got)
	}
}

func tryOffer(c *client, within time.Duration) (offerView, bool) {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for i, f := range c.frames {
			var o offerView
			if f.Type == "offer" && json.Unmarshal(f.Data, &o) == nil && o.Channel == "video" {
				c.frames = append(c.frames[:i:i], c.frames[i+1:]...)
				c.mu.Unlock()
				return o, true
			}
		}
		c.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	return offerView{}, false
}

// A ring nobody answers makes the agent not_responding, and the call goes back to the waiting room.
func TestMissedRingMakesTheAgentNotResponding(t *testing.T) {
	env := apptest.Start(t, nil)
	env.SetGroup(t, map[string]any{"offer_timeout_seconds": 5})
	ana := desk(t, env, demo.AnaEmail, true)
	v := visitor(t, env)
	convID := startChat(v)
	requestCall(v, convID)
	ana.offer()
	v.callState("ringing")
	ana.wait("not_responding", func(f apptest.Frame) bool {
		var p struct {
			Video string `json:"video"`
		}
		json.Unmarshal(f.Data, &p)
		return f.Type == "presence" && p.Video == "not_responding"
	})
	v.callState("queued")
}

// Two nodes share PostgreSQL and NATS: the visitor's socket is on one, Ana's desk on the other. The call's media is
// relayed by the node the first side joined; the other side reaches that relay over the bus. Media flows both
// ways, and the hang-up from the other node still gets the relay's stats.
func TestCallAcrossTwoNodes(t *testing.T) {
	pg, ok := apptest.PostgresURL(t)
	if !ok {
		return
	}
	var dbURL, nats string
	a := apptest.Start(t, func(c *config.Config) {
		c.Database.URL, c.Bus.NATSURL = store.TestPostgresURL(t, pg), apptest.NATSURL(t)
		dbURL, nats = c.Database.URL, c.Bus.NATSURL
	})
	b := apptest.Start(t, func(c *config.Config) { c.Database.URL, c.Bus.NATSURL = dbURL, nats })

	v := visitor(t, a)
	ana := desk(t, b, demo.AnaEmail, true)
	convID := startChat(v)
	callID := requestCall(v, convID)
	ana.sock.Send("offer.accept", "take", map[string]any{"offer_id": ana.offer().OfferID})
	ana.ack("take")
	v.callState("live")

	vp := v.connect(callID)   // node A's relay now carries the call
	ap := ana.connect(callID) // node B reaches it over the bus
	flowing(t, vp, ap)

	ana.sock.Send("call.hangup", "bye", map[string]any{"call_id": callID})
	ana.ack("bye")
	if ended := v.callState("ended"); ended.EndedBy != "agent" {
		t.Fatalf("ended call %+v", ended)
	}
	f := ana.wait("call_ended event", func(f apptest.Frame) bool {
		var e struct {
			Type string `json:"type"`
		}
		json.Unmarshal(f.Data, &e)
		return f.Type == "event" && e.Type == "call_ended"
	})
	var e struct {
		Data struct {
			Legs map[string]media.LegStats `json:"legs"`
		} `json:"data"`
	}
	f.Decode(t, &e)
	if e.Data.Legs["agent"].Packets == 0 || e.Data.Legs["visitor"].Packets == 0 {
		t.Fatalf("the stats of the relay on the other node were lost: %+v", e.Data.Legs)
	}
}
