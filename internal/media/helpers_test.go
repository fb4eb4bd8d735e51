package media

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testLog is a logger for tests: silent unless PARLEY_MEDIA_LOG names a level (debug, info, warn), to inspect
// what the relay and pion say.
func testLog() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(os.Getenv("PARLEY_MEDIA_LOG"))); err != nil ||
		os.Getenv("PARLEY_MEDIA_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// testReportInterval makes RTCP reports, and so RTT measurements, come five times a second.
const testReportInterval = 200 * time.Millisecond

// newTestRelay starts a relay on loopback with free ports, closed when the test ends.
func newTestRelay(t testing.TB, cfg Config) *Relay {
	t.Helper()
	if cfg.ListenIP == "" {
		cfg.ListenIP = "127.0.0.1"
	}
	if cfg.TCPPort == 0 && cfg.Net != nil {
		cfg.TCPPort = -1
	}
	cfg.reportInterval = testReportInterval
	r, err := New(cfg, testLog())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// newTestPeer makes a peer closed when the test ends.
func newTestPeer(t testing.TB, cfg PeerConfig) *Peer {
	t.Helper()
	cfg.reportInterval = testReportInterval
	p, err := NewPeer(cfg, testLog())
	if err != nil {
		t.Fatalf("NewPeer: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// events records a call's hooks, and routes the relay's candidates to the peer of each side, as the call
// service and the browser's signalling do.
type events struct {
	// obeyTiers passes the relay's tier targets on to the peers, which apply them as the browser does.
	obeyTiers bool

	mu         sync.Mutex
	peers      map[Side]*Peer
	candidates map[Side]int
	connected  map[Side]int
	firstMedia map[Side]int
	failed     map[Side]int
	endOfCands map[Side]int
}

func newEvents() *events {
	return &events{peers: map[Side]*Peer{}, candidates: map[Side]int{}, connected: map[Side]int{},
		firstMedia: map[Side]int{}, failed: map[Side]int{}, endOfCands: map[Side]int{}}
}

func (e *events) hooks() Hooks {
	h := Hooks{
		Candidate: func(side Side, c *Candidate) {
			e.mu.Lock()
			p := e.peers[side]
			if c == nil {
				e.endOfCands[side]++
			} else {
				e.candidates[side]++
			}
			e.mu.Unlock()
			if p != nil {
				_ = p.AddCandidate(c)
			}
		},
		Connected:  func(side Side) { e.count(e.connected, side) },
		FirstMedia: func(side Side) { e.count(e.firstMedia, side) },
		Failed:     func(side Side) { e.count(e.failed, side) },
	}
	if e.obeyTiers {
		h.Tier = func(side Side, info TierInfo) {
			e.mu.Lock()
			p := e.peers[side]
			e.mu.Unlock()
			if p != nil {
				p.SetTier(info)
			}
		}
	}
	return h
}

func (e *events) count(m map[Side]int, side Side) {
	e.mu.Lock()
	m[side]++
	e.mu.Unlock()
}

func (e *events) get(m map[Side]int, side Side) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return m[side]
}

func (e *events) setPeer(side Side, p *Peer) {
	e.mu.Lock()
	e.peers[side] = p
	e.mu.Unlock()
}

// join connects a peer to one side of a call, the way a browser and the call service do: offer, Join, answer,
// and candidates both ways.
func join(t testing.TB, r *Relay, ev *events, callID string, side Side, p *Peer, replace bool) string {
	t.Helper()
	offer, err := p.Offer()
	if err != nil {
		t.Fatalf("Offer: %v", err)
	}
	p.OnCandidate(func(c *Candidate) { _ = r.AddCandidate(callID, side, c) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	answer, err := r.Join(ctx, callID, side, offer, replace)
	if err != nil {
		t.Fatalf("Join %s: %v", side, err)
	}
	if ev != nil {
		ev.setPeer(side, p)
	}
	if err := p.SetAnswer(answer); err != nil {
		t.Fatalf("SetAnswer: %v", err)
	}
	return answer
}

// waitConnected waits for peers to connect to the relay.
func waitConnected(t testing.TB, peers ...*Peer) {
	t.Helper()
	for _, p := range peers {
		select {
		case <-p.Connected():
		case <-time.After(10 * time.Second):
			t.Fatal("peer did not connect")
		}
	}
}

// eventually polls cond until it holds, or fails the test after timeout.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mediaAdvances waits until p has received more audio, and more video if video is set, than it had.
func mediaAdvances(t testing.TB, p *Peer, name string, video bool) {
	t.Helper()
	a0, v0 := p.Received()
	eventually(t, 5*time.Second, name+" receiving media", func() bool {
		a, v := p.Received()
		return a > a0+10 && (!video || v > v0+10)
	})
}

// liveCall is a call on a relay, with a visitor and an agent peer connected and media flowing both ways.
type liveCall struct {
	relay          *Relay
	callID         string
	ev             *events
	visitor, agent *Peer
	visitorAnswer  string // the relay's answer to the visitor's offer
}

// connectPeers opens a call on r, whose hooks ev records, and connects a visitor peer made with vcfg and an agent
// peer made with acfg: both join before either starts. It waits until each receives audio from the other, and
// video when the other sends it.
func connectPeers(t testing.TB, r *Relay, ev *events, vcfg, acfg PeerConfig) *liveCall {
	t.Helper()
	c := &liveCall{relay: r, callID: newCallID(), ev: ev}
	if err := r.Open(c.callID, ev.hooks()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	c.visitor = newTestPeer(t, vcfg)
	c.agent = newTestPeer(t, acfg)
	c.visitorAnswer = join(t, r, ev, c.callID, SideVisitor, c.visitor, false)
	join(t, r, ev, c.callID, SideAgent, c.agent, false)
	c.visitor.Start()
	c.agent.Start()
	waitConnected(t, c.visitor, c.agent)
	mediaAdvances(t, c.visitor, "visitor", acfg.Video)
	mediaAdvances(t, c.agent, "agent", vcfg.Video)
	return c
}

// startCall opens a call and connects a visitor and an agent peer that both send audio and video.
func startCall(t testing.TB, r *Relay, callID string) (visitor, agent *Peer, ev *events) {
	t.Helper()
	ev = newEvents()
	if err := r.Open(callID, ev.hooks()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	visitor = newTestPeer(t, PeerConfig{Audio: true, Video: true})
	agent = newTestPeer(t, PeerConfig{Audio: true, Video: true})
	join(t, r, ev, callID, SideVisitor, visitor, false)
	visitor.Start()
	join(t, r, ev, callID, SideAgent, agent, false)
	agent.Start()
	waitConnected(t, visitor, agent)
	return visitor, agent, ev
}

var callSeq atomic.Int64

// newCallID returns a call id unique within the test binary.
func newCallID() string { return fmt.Sprintf("call-%d", callSeq.Add(1)) }
