package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/parley/parley/internal/media"
)

// The two sides of a call, as indexes.
const (
	sideVisitor = 0
	sideAgent   = 1
)

var sideNames = [2]string{"visitor", "agent"}

// mediaTimeout bounds the wait for media both ways once both sides have their answer.
const mediaTimeout = 20 * time.Second

// callRun is one call of the load test: a visitor who asks for video, the load-test agent who answers, and a
// synthetic peer on each side.
type callRun struct {
	lt      *loadTest
	n       int // 1, 2, ...: the call's number in the run
	visitor *socket

	live     chan struct{} // the visitor heard that the call is live
	liveOnce sync.Once
	answered chan struct{} // one of the load test's agents heard that it is live
	ended    chan struct{} // the visitor heard that the call ended
	endOnce  sync.Once
	quality  chan json.RawMessage // the call_ended event's call-quality record

	mu          sync.Mutex // guards what follows
	callID      string
	convID      string
	agent       *agent
	liveAgentID string
	peers       [2]*media.Peer
	endedHow    string
	requestAt   time.Time
	liveAt      time.Time
	joinAt      [2]time.Time // call.connect sent
	firstVideo  [2]time.Time // first video packet seen (polled every few milliseconds)
	established bool         // media flowed both ways
	stage       string
	failure     string
	hangingUp   bool
	windowStart [2]received
}

// received is what a peer got from the relay.
type received struct{ audio, video uint64 }

func newCallRun(lt *loadTest, n int) *callRun {
	return &callRun{lt: lt, n: n, live: make(chan struct{}), answered: make(chan struct{}), ended: make(chan struct{}),
		quality: make(chan json.RawMessage, 1)}
}

func (c *callRun) peer(side int) *media.Peer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peers[side]
}

func (c *callRun) setStage(s string) {
	c.mu.Lock()
	c.stage = s
	c.mu.Unlock()
}

// fail records why the call failed, once.
func (c *callRun) fail(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failure == "" {
		c.failure = reason
	}
}

func (c *callRun) failed() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failure
}

// setAgent is told which load-test agent answered.
func (c *callRun) setAgent(a *agent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.agent == nil {
		c.agent = a
		close(c.answered)
	}
}

func (c *callRun) endedReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.endedHow
}

// onVisitorFrame handles the visitor socket's frames, on its reader goroutine.
func (c *callRun) onVisitorFrame(f frame) {
	switch f.Type {
	case "call":
		var v callView
		if json.Unmarshal(f.Data, &v) != nil {
			return
		}
		switch v.State {
		case "live":
			c.mu.Lock()
			if c.liveAt.IsZero() {
				c.liveAt, c.liveAgentID = time.Now(), v.AgentID
			}
			c.mu.Unlock()
			c.liveOnce.Do(func() { close(c.live) })
		case "ended":
			c.mu.Lock()
			if c.endedHow == "" {
				c.endedHow = fmt.Sprintf("ended by %s, reason %q", v.EndedBy, v.Reason)
			}
			c.mu.Unlock()
			c.endOnce.Do(func() { close(c.ended) })
		}
	case "call.candidate":
		var d candidateData
		if json.Unmarshal(f.Data, &d) != nil || d.Candidate == nil {
			return
		}
		if p := c.peer(sideVisitor); p != nil {
			_ = p.AddCandidate(d.Candidate)
		}
	case "event":
		var e struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(f.Data, &e) == nil && e.Type == "call_ended" {
			select {
			case c.quality <- e.Data:
			default:
			}
		}
	}
}

// setup runs the call until media flows both ways, or records why it could not.
func (c *callRun) setup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, c.lt.cfg.SetupTimeout)
	defer cancel()
	err := c.doSetup(ctx)
	c.mu.Lock()
	stage := c.stage
	c.mu.Unlock()
	switch {
	case err == nil:
		c.mu.Lock()
		c.established = true
		c.mu.Unlock()
	case c.lt.ctx.Err() != nil:
		c.fail(stage + ": interrupted")
	case errors.Is(err, context.DeadlineExceeded):
		c.fail(fmt.Sprintf("%s: not done within the set-up time of %s", stage, c.lt.cfg.SetupTimeout))
	default:
		c.fail(stage + ": " + shortError(err))
	}
}

func (c *callRun) doSetup(ctx context.Context) error {
	lt := c.lt
	c.setStage("visitor session")
	token, err := lt.widget.visitorToken(ctx, lt.site.PublicID)
	if err != nil {
		return err
	}
	c.visitor, err = dialSocket(ctx, lt.wsBase+"/ws/visitor?site="+url.QueryEscape(lt.site.PublicID), lt.origin,
		lt.plain, c.onVisitorFrame)
	if err != nil {
		return err
	}
	if err := c.visitor.request(ctx, "hello", map[string]string{"token": token}, nil); err != nil {
		return err
	}

	c.setStage("call request")
	var ack struct {
		ConversationID string   `json:"conversation_id"`
		Call           callView `json:"call"`
	}
	c.mu.Lock()
	c.requestAt = time.Now()
	c.mu.Unlock()
	if err := c.visitor.request(ctx, "call.request", map[string]string{"client_msg_id": "loadtest-call"}, &ack); err != nil {
		return err
	}
	if ack.Call.CallID == "" {
		return errors.New("the call.request ack names no call")
	}
	c.mu.Lock()
	c.callID, c.convID = ack.Call.CallID, ack.ConversationID
	c.mu.Unlock()
	lt.register(c)

	c.setStage("waiting for an agent")
	for _, ch := range []chan struct{}{c.live, c.answered} {
		select {
		case <-ch:
		case <-c.ended:
			return fmt.Errorf("the call %s before it was answered", c.endedReason())
		case <-c.visitor.done:
			return errors.New("the visitor's socket closed")
		case <-ctx.Done():
			c.mu.Lock()
			other := c.liveAgentID != "" && !lt.ours[c.liveAgentID]
			c.mu.Unlock()
			if other {
				return errors.New("answered by an agent who is not one of the load test's")
			}
			return ctx.Err()
		}
	}

	c.setStage("connect")
	var wg sync.WaitGroup
	var errs [2]error
	for side := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[side] = c.connect(ctx, side)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}

	c.setStage("media")
	return c.waitMedia(ctx)
}

// connect joins one side to the relay with a new synthetic peer.
func (c *callRun) connect(ctx context.Context, side int) error {
	peer, err := media.NewPeer(media.PeerConfig{Video: true, Audio: true, VideoKbps: c.lt.cfg.VideoKbps}, nil)
	if err != nil {
		return fmt.Errorf("%s peer: %w", sideNames[side], err)
	}
	c.mu.Lock()
	c.peers[side] = peer
	sock, callID := c.visitor, c.callID
	if side == sideAgent {
		sock = c.agent.desk
	}
	c.mu.Unlock()
	sdp, err := peer.Offer()
	if err != nil {
		return fmt.Errorf("%s offer: %w", sideNames[side], err)
	}
	c.mu.Lock()
	c.joinAt[side] = time.Now()
	c.mu.Unlock()
	p, err := sock.start(ctx, "call.connect", map[string]string{"call_id": callID, "sdp": sdp})
	if err != nil {
		return fmt.Errorf("%s: %w", sideNames[side], err)
	}
	// The peer's candidates go after the call.connect, which gives the socket its leg; the peer holds those
	// gathered meanwhile.
	peer.OnCandidate(func(cand *media.Candidate) {
		_ = sock.send(context.Background(), "call.candidate", map[string]any{"call_id": callID, "candidate": cand})
	})
	raw, err := p.wait(ctx)
	if err != nil {
		return fmt.Errorf("%s call.connect: %w", sideNames[side], err)
	}
	var answer struct {
		SDP string `json:"sdp"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil || answer.SDP == "" {
		return fmt.Errorf("%s call.connect: the ack has no SDP answer", sideNames[side])
	}
	if err := peer.SetAnswer(answer.SDP); err != nil {
		return fmt.Errorf("%s: the relay's answer: %w", sideNames[side], err)
	}
	peer.Start()
	return nil
}

// waitMedia waits until both peers receive audio and video, noting when each first sees video.
func (c *callRun) waitMedia(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, mediaTimeout)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	peers := [2]*media.Peer{c.peer(sideVisitor), c.peer(sideAgent)}
	for {
		now := time.Now()
		flowing := true
		c.mu.Lock()
		for side, p := range peers {
			a, v := p.Received()
			if v > 0 && c.firstVideo[side].IsZero() {
				c.firstVideo[side] = now
			}
			if a == 0 || v == 0 {
				flowing = false
			}
		}
		c.mu.Unlock()
		if flowing {
			return nil
		}
		select {
		case <-tick.C:
		case <-c.ended:
			return fmt.Errorf("the call %s before media flowed", c.endedReason())
		case <-ctx.Done():
			if c.lt.ctx.Err() != nil {
				return c.lt.ctx.Err()
			}
			var missing []string
			for side, p := range peers {
				select {
				case <-p.Connected():
					if a, v := p.Received(); a == 0 || v == 0 {
						missing = append(missing, sideNames[side]+" connected but got no audio or no video")
					}
				default:
					missing = append(missing, sideNames[side]+" did not connect (ICE/DTLS)")
				}
			}
			return fmt.Errorf("no media both ways within %s (%s)", mediaTimeout, joinWords(missing))
		}
	}
}

// counts returns what each peer has received.
func (c *callRun) counts() [2]received {
	var out [2]received
	for side := range 2 {
		if p := c.peer(side); p != nil {
			out[side].audio, out[side].video = p.Received()
		}
	}
	return out
}

// teardown hangs the call up, collects its call-quality record, closes its peers, and has the agent close the
// conversation, so that it leaves nothing waiting in the queue.
func (c *callRun) teardown(fallback *agent) (quality json.RawMessage) {
	c.mu.Lock()
	c.hangingUp = true
	callID, convID, a, answered := c.callID, c.convID, c.agent, !c.liveAt.IsZero()
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if callID != "" && c.visitor != nil {
		select {
		case <-c.ended:
		default:
			err := c.visitor.request(ctx, "call.hangup", map[string]string{"call_id": callID}, nil)
			if err != nil && a != nil {
				_ = a.desk.request(ctx, "call.hangup", map[string]string{"call_id": callID}, nil)
			}
		}
		if answered {
			select {
			case quality = <-c.quality:
			case <-time.After(5 * time.Second):
				c.lt.note("a call's call_ended record did not come within 5 s of its hang-up")
			}
		}
	}
	for side := range 2 {
		if p := c.peer(side); p != nil {
			_ = p.Close()
		}
	}
	if a == nil {
		a = fallback
	}
	if convID != "" && a != nil {
		// The agent closes the conversation, which answering the call gave them; one that no agent answered waits
		// in the chat queue, and the agent takes it first.
		end := map[string]string{"conversation_id": convID}
		if a.desk.request(ctx, "conversation.end", end, nil) != nil &&
			a.desk.request(ctx, "conversation.claim", end, nil) == nil {
			_ = a.desk.request(ctx, "conversation.end", end, nil)
		}
	}
	if c.visitor != nil {
		c.visitor.close()
	}
	return quality
}
