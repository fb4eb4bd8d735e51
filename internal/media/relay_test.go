package media

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMediaFlowsBothWays(t *testing.T) {
	r := newTestRelay(t, Config{})
	callID := newCallID()
	visitor, agent, ev := startCall(t, r, callID)

	mediaAdvances(t, visitor, "visitor", true)
	mediaAdvances(t, agent, "agent", true)
	for _, side := range []Side{SideVisitor, SideAgent} {
		if n := ev.get(ev.connected, side); n != 1 {
			t.Errorf("Connected(%s) fired %d times, want 1", side, n)
		}
		if n := ev.get(ev.firstMedia, side); n != 1 {
			t.Errorf("FirstMedia(%s) fired %d times, want 1", side, n)
		}
		if n := ev.get(ev.candidates, side); n == 0 {
			t.Errorf("no Candidate hook for %s", side)
		}
		if n := ev.get(ev.endOfCands, side); n != 1 {
			t.Errorf("end-of-candidates hook for %s fired %d times, want 1", side, n)
		}
	}
	if visitor.FirstMediaAt().IsZero() || agent.FirstMediaAt().IsZero() {
		t.Error("FirstMediaAt is zero after media arrived")
	}
	if lat := agent.Latencies(); len(lat) == 0 {
		t.Error("no latency samples")
	}
	if r.Calls() != 1 {
		t.Errorf("Calls() = %d, want 1", r.Calls())
	}
	if n := histogramCount(t, r, "parley_media_forward_seconds"); n == 0 {
		t.Error("parley_media_forward_seconds recorded nothing")
	}
}

func TestStatsRecorded(t *testing.T) {
	r := newTestRelay(t, Config{})
	callID := newCallID()
	visitor, _, _ := startCall(t, r, callID)
	mediaAdvances(t, visitor, "visitor", true)
	// Reports go out every 200 ms here: wait for a few round-trip measurements on both legs.
	eventually(t, 5*time.Second, "RTT measurements", func() bool {
		s, err := r.Stats(callID)
		return err == nil && s.Visitor.RTTMs > 0 && s.Agent.RTTMs > 0
	})
	stats, err := r.End(callID)
	if err != nil {
		t.Fatalf("End: %v", err)
	}
	for side, s := range map[Side]LegStats{SideVisitor: stats.Visitor, SideAgent: stats.Agent} {
		// A peer sends 500 kb/s of video and about 37 kb/s of audio (headers included).
		if s.BitrateKbps < 150 || s.BitrateKbps > 900 {
			t.Errorf("%s bitrate = %.0f kb/s, want about 540", side, s.BitrateKbps)
		}
		if s.Packets == 0 || s.Bytes < s.Packets*12 {
			t.Errorf("%s packets = %d, bytes = %d", side, s.Packets, s.Bytes)
		}
		if s.RTTMs <= 0 || s.RTTMs > 100 {
			t.Errorf("%s RTT = %.3f ms on loopback", side, s.RTTMs)
		}
		if s.LossPct > 1 {
			t.Errorf("%s loss = %.2f%% on loopback", side, s.LossPct)
		}
		if s.JitterMs <= 0 || s.JitterMs > 50 {
			t.Errorf("%s jitter = %.3f ms", side, s.JitterMs)
		}
	}
	if _, err := r.Stats(callID); !errors.Is(err, ErrNoCall) {
		t.Errorf("Stats after End: %v, want ErrNoCall", err)
	}
	if _, err := r.End(callID); !errors.Is(err, ErrNoCall) {
		t.Errorf("second End: %v, want ErrNoCall", err)
	}
}

func TestJoinRefusals(t *testing.T) {
	r := newTestRelay(t, Config{})
	good := newCallID()
	visitor, agent, _ := startCall(t, r, good)
	mediaAdvances(t, agent, "agent", true)

	probe := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	offer, err := probe.Offer()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("unknown call", func(t *testing.T) {
		if _, err := r.Join(ctx, "no-such-call", SideVisitor, offer, false); !errors.Is(err, ErrNoCall) {
			t.Errorf("Join = %v, want ErrNoCall", err)
		}
		if err := r.AddCandidate("no-such-call", SideVisitor, nil); !errors.Is(err, ErrNoCall) {
			t.Errorf("AddCandidate = %v, want ErrNoCall", err)
		}
	})
	t.Run("unknown side", func(t *testing.T) {
		if _, err := r.Join(ctx, good, Side("boss"), offer, false); err == nil {
			t.Error("Join for an unknown side succeeded")
		}
	})
	t.Run("third connection", func(t *testing.T) {
		for _, side := range []Side{SideVisitor, SideAgent} {
			if _, err := r.Join(ctx, good, side, offer, false); !errors.Is(err, ErrLegTaken) {
				t.Errorf("Join %s = %v, want ErrLegTaken", side, err)
			}
		}
	})

	bad := newCallID()
	if err := r.Open(bad, Hooks{}); err != nil {
		t.Fatal(err)
	}
	answer := joinAnswer(t, r, bad)
	for _, tc := range []struct {
		name, sdp, want string
	}{
		{"empty", "", "empty offer"},
		{"garbage", "hello, relay", "not SDP"},
		{"an answer", answer, "this is an answer"},
		{"no media", sessionOnly(offer), "no media sections"},
		{"H264 only", strings.ReplaceAll(offer, "VP8/90000", "H264/90000"), "offers no VP8"},
		{"no Opus", strings.ReplaceAll(offer, "opus/48000/2", "PCMU/8000"), "offers no OPUS"},
		{"no video", withoutSection(offer, "video"), "no video section"},
		{"video sendonly", strings.Replace(offer, "a=sendrecv", "a=sendonly", 2), "sendonly"},
		{"audio disabled", strings.Replace(offer, "m=audio 9 ", "m=audio 0 ", 1), "disabled"},
		{"two video sections", offer + videoSection(offer), "more than one video"},
		{"too large", offer + strings.Repeat("a=x-padding:"+strings.Repeat("x", 100)+"\r\n", 700), "more than"},
	} {
		t.Run("bad SDP/"+tc.name, func(t *testing.T) {
			_, err := r.Join(ctx, bad, SideVisitor, tc.sdp, false)
			if !errors.Is(err, ErrBadSDP) {
				t.Fatalf("Join = %v, want ErrBadSDP", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
	t.Run("bad candidate", func(t *testing.T) {
		for _, c := range []string{"candidate:garbage", "candidate:1 1 udp 2122260223 999.1.1.1 x typ host",
			"candidate:" + strings.Repeat("1", 2000)} {
			if err := r.AddCandidate(good, SideVisitor, &Candidate{Candidate: c}); !errors.Is(err, ErrBadCandidate) {
				t.Errorf("AddCandidate(%.40q) = %v, want ErrBadCandidate", c, err)
			}
		}
		for _, c := range []*Candidate{nil, {Candidate: ""}} {
			if err := r.AddCandidate(good, SideVisitor, c); err != nil {
				t.Errorf("end of candidates: %v", err)
			}
		}
	})
	t.Run("slot free after refusals", func(t *testing.T) {
		// None of the refused offers kept the bad call's visitor slot.
		p := newTestPeer(t, PeerConfig{Audio: true, Video: true})
		join(t, r, nil, bad, SideVisitor, p, false)
		waitConnected(t, p)
	})
	t.Run("good call still served", func(t *testing.T) {
		mediaAdvances(t, visitor, "visitor", true)
		mediaAdvances(t, agent, "agent", true)
	})
}

// joinAnswer returns an answer the relay made, which must be refused as an offer.
func joinAnswer(t *testing.T, r *Relay, callID string) string {
	t.Helper()
	p := newTestPeer(t, PeerConfig{Audio: true})
	offer, err := p.Offer()
	if err != nil {
		t.Fatal(err)
	}
	answer, err := r.Join(context.Background(), callID, SideAgent, offer, false)
	if err != nil {
		t.Fatal(err)
	}
	return answer
}

// sessionOnly cuts an SDP before its first media section.
func sessionOnly(sdp string) string {
	return sdp[:strings.Index(sdp, "m=")]
}

// videoSection returns the video section of an SDP.
func videoSection(sdp string) string {
	i := strings.Index(sdp, "m=video")
	j := strings.Index(sdp[i+1:], "m=")
	if j < 0 {
		return sdp[i:]
	}
	return sdp[i : i+1+j]
}

// withoutSection removes a media section from an SDP (and its mid from the BUNDLE group).
func withoutSection(sdp, kind string) string {
	section := videoSection(sdp)
	if kind != "video" {
		panic("only video")
	}
	out := strings.Replace(sdp, section, "", 1)
	return strings.Replace(out, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0", 1)
}

func TestReplaceLegAfterReload(t *testing.T) {
	r := newTestRelay(t, Config{})
	callID := newCallID()
	visitor, agent, ev := startCall(t, r, callID)
	mediaAdvances(t, agent, "agent", true)
	before, err := r.Stats(callID)
	if err != nil {
		t.Fatal(err)
	}

	// The visitor reloads the page: a new connection joins with replace, while the old one is still up.
	reloaded := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	join(t, r, ev, callID, SideVisitor, reloaded, true)
	reloaded.Start()
	waitConnected(t, reloaded)
	mediaAdvances(t, reloaded, "reloaded visitor", true)
	mediaAdvances(t, agent, "agent", true)
	if n := ev.get(ev.failed, SideVisitor); n != 0 {
		t.Errorf("Failed(visitor) fired %d times for a replaced leg", n)
	}
	if n := ev.get(ev.connected, SideVisitor); n != 2 {
		t.Errorf("Connected(visitor) fired %d times, want 2", n)
	}
	// The old page stops receiving.
	a0, _ := visitor.Received()
	time.Sleep(300 * time.Millisecond)
	if a, _ := visitor.Received(); a > a0+2 {
		t.Errorf("replaced peer still receives audio: %d -> %d", a0, a)
	}

	// A second connection without replace is refused while the new leg is up.
	extra := newTestPeer(t, PeerConfig{Audio: true})
	offer, _ := extra.Offer()
	if _, err := r.Join(context.Background(), callID, SideVisitor, offer, false); !errors.Is(err, ErrLegTaken) {
		t.Errorf("Join without replace = %v, want ErrLegTaken", err)
	}

	stats, err := r.End(callID)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Visitor.Packets <= before.Visitor.Packets {
		t.Errorf("visitor packets over the call = %d, no more than before the reload (%d)", stats.Visitor.Packets,
			before.Visitor.Packets)
	}
}

func TestFailedLegFreesSlot(t *testing.T) {
	r := newTestRelay(t, Config{})
	callID := newCallID()
	visitor, agent, ev := startCall(t, r, callID)
	mediaAdvances(t, visitor, "visitor", true)

	// The visitor's tab closes: its leg fails, and the visitor may join again without replace.
	if err := visitor.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "Failed(visitor)", func() bool { return ev.get(ev.failed, SideVisitor) == 1 })
	if n := ev.get(ev.failed, SideAgent); n != 0 {
		t.Errorf("Failed(agent) fired %d times", n)
	}
	again := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	join(t, r, ev, callID, SideVisitor, again, false)
	again.Start()
	waitConnected(t, again)
	mediaAdvances(t, again, "visitor, again", true)
	mediaAdvances(t, agent, "agent", true)
}

func TestLegThatNeverConnectsFails(t *testing.T) {
	r := newTestRelay(t, Config{connectTimeout: 500 * time.Millisecond})
	callID := newCallID()
	ev := newEvents()
	if err := r.Open(callID, ev.hooks()); err != nil {
		t.Fatal(err)
	}
	// The browser gets the answer but never connects (it was closed meanwhile).
	p := newTestPeer(t, PeerConfig{Audio: true})
	offer, _ := p.Offer()
	if _, err := r.Join(context.Background(), callID, SideAgent, offer, false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Join(context.Background(), callID, SideAgent, offer, false); !errors.Is(err, ErrLegTaken) {
		t.Errorf("Join while connecting = %v, want ErrLegTaken", err)
	}
	eventually(t, 5*time.Second, "Failed(agent)", func() bool { return ev.get(ev.failed, SideAgent) == 1 })
	if n := ev.get(ev.connected, SideAgent); n != 0 {
		t.Errorf("Connected fired %d times", n)
	}
	q := newTestPeer(t, PeerConfig{Audio: true})
	join(t, r, ev, callID, SideAgent, q, false)
	waitConnected(t, q)
}

func TestCameraOffAndOn(t *testing.T) {
	r := newTestRelay(t, Config{})
	visitor, agent, _ := startCall(t, r, newCallID())
	mediaAdvances(t, agent, "agent", true)

	visitor.SetCamera(false)
	time.Sleep(200 * time.Millisecond) // packets in flight land
	_, v0 := agent.Received()
	mediaAdvances(t, agent, "agent, audio only", false)
	time.Sleep(200 * time.Millisecond)
	if _, v := agent.Received(); v != v0 {
		t.Errorf("video still arrives with the camera off: %d -> %d packets", v0, v)
	}
	// The other direction is untouched.
	mediaAdvances(t, visitor, "visitor", true)

	visitor.SetCamera(true)
	mediaAdvances(t, agent, "agent, camera on again", true)
}

func TestVisitorWithoutCamera(t *testing.T) {
	r := newTestRelay(t, Config{})
	// The site's policy keeps the visitor's camera off: the widget offers to receive video only.
	c := connectPeers(t, r, newEvents(), PeerConfig{Audio: true}, PeerConfig{Audio: true, Video: true})
	if _, v := c.agent.Received(); v != 0 {
		t.Errorf("agent received %d video packets from a visitor without camera", v)
	}
}

func TestKeyframeRequests(t *testing.T) {
	r := newTestRelay(t, Config{})
	callID := newCallID()
	ev := newEvents()
	if err := r.Open(callID, ev.hooks()); err != nil {
		t.Fatal(err)
	}
	visitor := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	agent := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	join(t, r, ev, callID, SideVisitor, visitor, false)
	visitor.Start()
	waitConnected(t, visitor)
	time.Sleep(300 * time.Millisecond) // the visitor's video reaches the relay, with nobody to send it to
	if n := visitor.PLIsReceived(); n != 0 {
		t.Fatalf("visitor got %d keyframe requests before anyone joined", n)
	}

	// The agent joins: the visitor is asked for a keyframe, so the agent's decoder can start.
	join(t, r, ev, callID, SideAgent, agent, false)
	agent.Start()
	waitConnected(t, agent)
	eventually(t, 5*time.Second, "a keyframe request on join", func() bool { return visitor.PLIsReceived() > 0 })
	mediaAdvances(t, agent, "agent", true)

	// The agent's decoder loses the picture and asks for a keyframe: the relay passes it on to the visitor.
	time.Sleep(2 * keyframeInterval)
	before := visitor.PLIsReceived()
	if err := agent.RequestKeyframe(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the forwarded keyframe request", func() bool {
		return visitor.PLIsReceived() > before
	})
}

func TestICETCP(t *testing.T) {
	r := newTestRelay(t, Config{})
	if r.TCPAddr() == nil {
		t.Fatal("no TCP port")
	}
	tcp := PeerConfig{Audio: true, Video: true, TCPOnly: true}
	c := connectPeers(t, r, newEvents(), tcp, tcp)
	if !strings.Contains(c.visitorAnswer, "tcptype passive") {
		t.Errorf("answer has no passive TCP candidate:\n%s", c.visitorAnswer)
	}
}

func TestRelayLifecycle(t *testing.T) {
	t.Run("ports taken", func(t *testing.T) {
		r := newTestRelay(t, Config{})
		if _, err := New(Config{ListenIP: "127.0.0.1", UDPPort: r.UDPAddr().Port, TCPPort: -1}, nil); err == nil {
			t.Error("New on a taken UDP port succeeded")
		}
		if _, err := New(Config{ListenIP: "127.0.0.1", TCPPort: r.TCPAddr().Port}, nil); err == nil {
			t.Error("New on a taken TCP port succeeded")
		}
	})
	t.Run("bad config", func(t *testing.T) {
		for _, cfg := range []Config{{ListenIP: "localhost"}, {ListenIP: "127.0.0.1", PublicIP: "example.com"}} {
			if _, err := New(cfg, nil); err == nil {
				t.Errorf("New(%+v) succeeded", cfg)
			}
		}
	})
	t.Run("open, end, close", func(t *testing.T) {
		r, err := New(Config{ListenIP: "127.0.0.1", TCPPort: -1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.TCPAddr() != nil {
			t.Error("TCPAddr with ICE-TCP off")
		}
		if err := r.Open("", Hooks{}); err == nil {
			t.Error("Open with an empty id succeeded")
		}
		for range 2 {
			if err := r.Open("c1", Hooks{}); err != nil {
				t.Fatal(err)
			}
		}
		if r.Calls() != 1 {
			t.Errorf("Calls() = %d, want 1", r.Calls())
		}
		if _, err := r.End("c1"); err != nil {
			t.Errorf("End of a call nobody joined: %v", err)
		}
		if _, err := r.End("c1"); !errors.Is(err, ErrNoCall) {
			t.Errorf("End of an ended call = %v, want ErrNoCall", err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Open("c2", Hooks{}); !errors.Is(err, ErrClosed) {
			t.Errorf("Open after Close = %v, want ErrClosed", err)
		}
		if _, err := r.Join(context.Background(), "c2", SideAgent, "", false); !errors.Is(err, ErrClosed) {
			t.Errorf("Join after Close = %v, want ErrClosed", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// The ports are free again.
		conn, err := net.ListenUDP("udp4", r.UDPAddr())
		if err != nil {
			t.Errorf("UDP port still bound after Close: %v", err)
		} else {
			_ = conn.Close()
		}
	})
}

func TestNoGoroutineLeak(t *testing.T) {
	settle := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= want {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("%d goroutines, want at most %d:\n%s", n, want, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	base := runtime.NumGoroutine()
	r, err := New(Config{ListenIP: "127.0.0.1", reportInterval: testReportInterval}, testLog())
	if err != nil {
		t.Fatal(err)
	}
	withRelay := runtime.NumGoroutine()

	for range 2 {
		callID := newCallID()
		visitor := newTestPeer(t, PeerConfig{Audio: true, Video: true})
		agent := newTestPeer(t, PeerConfig{Audio: true, Video: true})
		ev := newEvents()
		if err := r.Open(callID, ev.hooks()); err != nil {
			t.Fatal(err)
		}
		join(t, r, ev, callID, SideVisitor, visitor, false)
		join(t, r, ev, callID, SideAgent, agent, false)
		visitor.Start()
		agent.Start()
		waitConnected(t, visitor, agent)
		mediaAdvances(t, agent, "agent", true)
		if _, err := r.End(callID); err != nil {
			t.Fatal(err)
		}
		_ = visitor.Close()
		_ = agent.Close()
		// End alone released everything the call had, with the relay still open.
		settle(withRelay)
	}

	// A call still open at Close is closed with it.
	callID := newCallID()
	p := newTestPeer(t, PeerConfig{Audio: true, Video: true})
	if err := r.Open(callID, Hooks{}); err != nil {
		t.Fatal(err)
	}
	join(t, r, nil, callID, SideVisitor, p, false)
	p.Start()
	waitConnected(t, p)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_ = p.Close()
	settle(base)
}

// histogramCount reads how many observations a histogram of the relay's collectors holds.
func histogramCount(t *testing.T, r *Relay, name string) uint64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.Collectors()...)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestPublicIPAdvertised(t *testing.T) {
	r := newTestRelay(t, Config{PublicIP: "203.0.113.7"})
	if err := r.Open("c", Hooks{}); err != nil {
		t.Fatal(err)
	}
	p := newTestPeer(t, PeerConfig{Audio: true})
	offer, _ := p.Offer()
	answer, err := r.Join(context.Background(), "c", SideVisitor, offer, false)
	if err != nil {
		t.Fatal(err)
	}
	var candidates []string
	for _, line := range strings.Split(answer, "\r\n") {
		if strings.HasPrefix(line, "a=candidate:") {
			candidates = append(candidates, line)
		}
	}
	if len(candidates) == 0 {
		t.Fatalf("no candidates in the answer:\n%s", answer)
	}
	for _, c := range candidates {
		if !strings.Contains(c, " 203.0.113.7 ") {
			t.Errorf("candidate does not advertise the public address: %s", c)
		}
	}
}

func TestConcurrentJoinsForOneSide(t *testing.T) {
	r := newTestRelay(t, Config{})
	if err := r.Open("c", Hooks{}); err != nil {
		t.Fatal(err)
	}
	const n = 4
	offers := make([]string, n)
	for i := range offers {
		p := newTestPeer(t, PeerConfig{Audio: true, Video: true})
		offers[i], _ = p.Offer()
	}
	errs := make(chan error, n)
	for _, offer := range offers {
		go func() {
			_, err := r.Join(context.Background(), "c", SideAgent, offer, false)
			errs <- err
		}()
	}
	var ok, taken int
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrLegTaken):
			taken++
		default:
			t.Errorf("Join: %v", err)
		}
	}
	if ok != 1 || taken != n-1 {
		t.Errorf("%d joins succeeded and %d were refused, want 1 and %d", ok, taken, n-1)
	}
}
