package media

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v4/vnet"
)

// Quality tiers over pion's virtual network: a token bucket on one side's link, as a weak hotel Wi-Fi would be.
// The Peers obey the relay's targets (Peer.SetTier), as Parley's browser code does with setParameters.
//
// These tests take 20 to 45 s each, most of it waiting for the tiers to settle as they would in a real call; they
// run in parallel. PARLEY_MEDIA_LOG=info shows the relay's tier decisions.

const unlimited = 100_000_000 // bits per second: a token bucket that never limits a call

// tierCall is a call on a virtual network whose agent's downlink goes through a token bucket (rate in bits per
// second, queue of 250 ms at 300 kb/s), and whose router runs filter (if any) on every packet.
type tierCall struct {
	*liveCall
	bucket *vnet.TBFQueue
}

func newTierCall(t *testing.T, filter vnet.ChunkFilter) *tierCall {
	t.Helper()
	tc := &tierCall{bucket: vnet.NewTBFQueue(unlimited, 4000, 10_000)}
	// A router with a 10 ms delay, and the three hosts, the agent's behind the token bucket.
	router, nets := newVNet(t, vnetOptions{delay: 10 * time.Millisecond, nic: func(t *testing.T, ip string, n *vnet.Net) vnet.NIC {
		if ip != agentIP {
			return n
		}
		q, err := vnet.NewQueue(n, tc.bucket)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = q.Close() })
		return q
	}})
	if filter != nil {
		router.AddChunkFilter(filter)
	}
	startVNet(t, router)
	// The call, on a relay in the virtual network, with two Peers that obey their tiers.
	ev := newEvents()
	ev.obeyTiers = true
	tc.liveCall = connectPeers(t, newTestRelay(t, Config{ListenIP: relayIP, Net: nets[relayIP]}), ev,
		vnetPeer(nets, visitorIP), vnetPeer(nets, agentIP))
	return tc
}

// settle waits until p is on tier want, and returns how long that took.
func settle(t *testing.T, p *Peer, want Tier, timeout time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	eventually(t, timeout, what, func() bool { return p.Tier() == want })
	took := time.Since(start)
	t.Logf("%s: %v", what, took.Round(100*time.Millisecond))
	return took
}

// holds checks that p stays on tier want for d, and that other keeps receiving video (or audio only, for
// TierAudio).
func holds(t *testing.T, p, other *Peer, want Tier, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	a0, v0 := other.Received()
	for time.Now().Before(deadline) {
		if got := p.Tier(); got != want {
			t.Fatalf("tier went from %s to %s", want, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a, v := other.Received()
	if a < a0+uint64(d/(40*time.Millisecond)) {
		t.Errorf("audio stalled on the %s tier: %d packets in %v", want, a-a0, d)
	}
	if want != TierAudio && v < v0+uint64(d/(40*time.Millisecond)) {
		t.Errorf("video stalled on the %s tier: %d packets in %v", want, v-v0, d)
	}
}

func TestTierCapAndLift(t *testing.T) {
	t.Parallel()
	tc := newTierCall(t, nil)
	holds(t, tc.visitor, tc.agent, TierHigh, 2*time.Second)

	// The agent's downlink carries the visitor's video: 300 kb/s there puts the visitor on the low tier. The
	// agent's own video crosses the visitor's downlink and the agent's uplink, which are free: it stays high.
	tc.bucket.SetRate(300_000)
	settle(t, tc.visitor, TierLow, 8*time.Second, "300 kb/s cap: visitor on the low tier after")
	holds(t, tc.visitor, tc.agent, TierLow, 5*time.Second)
	if got := tc.agent.Tier(); got != TierHigh {
		t.Errorf("agent's tier = %s, want high: its paths are free", got)
	}

	tc.bucket.SetRate(unlimited)
	settle(t, tc.visitor, TierHigh, 15*time.Second, "cap lifted: visitor back on the high tier after")
	mediaAdvances(t, tc.agent, "agent after the lift", true)

	stats, err := tc.relay.End(tc.callID)
	if err != nil {
		t.Fatal(err)
	}
	var seq []Tier
	for _, ch := range stats.Tiers {
		if ch.Side == SideVisitor {
			seq = append(seq, ch.Tier)
		}
		if ch.At.IsZero() || ch.EstimateKbps <= 0 {
			t.Errorf("tier change without time or estimate: %+v", ch)
		}
	}
	if len(seq) != 2 || seq[0] != TierLow || seq[1] != TierHigh {
		t.Errorf("visitor's tier changes = %v, want [low high]", seq)
	}
}

// policer drops what ip sends beyond rate bits per second (a token bucket of 4 KB without a queue), once on.
type policer struct {
	ip     net.IP
	rate   atomic.Int64
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func (p *policer) filter(c vnet.Chunk) bool {
	rate := p.rate.Load()
	if rate == 0 || !c.SourceAddr().(*net.UDPAddr).IP.Equal(p.ip) {
		return true
	}
	const burst = 4000 * 8
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.last.IsZero() {
		p.tokens = min(burst, p.tokens+now.Sub(p.last).Seconds()*float64(rate))
	}
	p.last = now
	bits := float64(len(c.UserData()) * 8)
	if p.tokens < bits {
		return false
	}
	p.tokens -= bits
	return true
}

func TestTierAudioOnly(t *testing.T) {
	t.Parallel()
	// 100 kb/s on the visitor's uplink: too little for video. The relay sees it in what it receives.
	pol := &policer{ip: net.ParseIP(visitorIP)}
	tc := newTierCall(t, pol.filter)
	pol.rate.Store(100_000)
	settle(t, tc.visitor, TierAudio, 8*time.Second, "100 kb/s cap: visitor on audio only after")
	holds(t, tc.visitor, tc.agent, TierAudio, 3*time.Second)

	pol.rate.Store(0)
	// Up slowly: audio to low after the hold, then low to high after another.
	settle(t, tc.visitor, TierHigh, 45*time.Second, "cap lifted: visitor back from audio only to high after")
	mediaAdvances(t, tc.agent, "agent after the lift", true)
}

func TestTierLowHoldsUnderLoss(t *testing.T) {
	t.Parallel()
	var lossy atomic.Bool
	tc := newTierCall(t, func(vnet.Chunk) bool { return !lossy.Load() || rand.Float64() >= 0.03 })
	lossy.Store(true)
	tc.bucket.SetRate(300_000)
	settle(t, tc.visitor, TierLow, 8*time.Second, "300 kb/s cap and 3% loss: visitor on the low tier after")
	holds(t, tc.visitor, tc.agent, TierLow, 12*time.Second)
	if got := tc.agent.Tier(); got == TierAudio {
		t.Errorf("agent's tier = %s with 3%% loss on free paths", got)
	}
}

func TestTierControl(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	at := func(ticks int) time.Time { return start.Add(time.Duration(ticks) * tierTick) }
	tests := []struct {
		name  string
		kbps  []float64 // one per tick
		want  []Tier    // the tier after each change, in order
		final Tier
	}{
		{"steady high", []float64{600, 550, 480, 420}, nil, TierHigh},
		{"one bad window is not enough", []float64{600, 200, 600, 150, 600}, nil, TierHigh},
		{"down quickly", []float64{600, 300, 300, 300}, []Tier{TierLow}, TierLow},
		{"straight to audio", []float64{600, 90, 80, 70}, []Tier{TierAudio}, TierAudio},
		{"up only after the hold", append([]float64{300, 300, 300}, repeat(500, 10)...), []Tier{TierLow}, TierLow},
		{"up after the hold", append([]float64{300, 300, 300}, repeat(500, 22)...), []Tier{TierLow, TierHigh},
			TierHigh},
		{"not up inside the margin", append([]float64{300, 300, 300}, repeat(420, 30)...), []Tier{TierLow},
			TierLow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := newTierControl(start)
			var got []Tier
			for i, k := range tt.kbps {
				if tc.step(at(i+1), k) {
					got = append(got, tc.tier)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("changes = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("changes = %v, want %v", got, tt.want)
				}
			}
			if tc.tier != tt.final {
				t.Errorf("tier = %s, want %s", tc.tier, tt.final)
			}
		})
	}

	t.Run("a failed probe doubles the hold", func(t *testing.T) {
		tc := newTierControl(start)
		i := 0
		step := func(k float64) bool { i++; return tc.step(at(i), k) }
		for range 3 {
			step(300)
		}
		for tc.tier != TierHigh {
			step(500)
		}
		for tc.tier != TierLow {
			step(300)
		}
		if tc.hold != 2*tierHold {
			t.Errorf("hold = %v after a failed probe, want %v", tc.hold, 2*tierHold)
		}
	})
}

func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestPathEstimate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var e pathEstimate
	if _, ok := e.estimate(); ok {
		t.Fatal("an estimate before any measure")
	}
	e.update(now, 540, 0, 0)
	if k, _ := e.estimate(); k < bweInitialKbps {
		t.Errorf("first estimate = %.0f, want at least the initial %d", k, bweInitialKbps)
	}
	// Over capacity: down within a few windows to what got through, and no further while the loss lasts.
	for range 6 {
		now = now.Add(tierTick)
		e.update(now, 290, 0.4, 0)
	}
	if k, _ := e.estimate(); k != 290 {
		t.Fatalf("estimate = %.0f under 40%% loss, want the 290 kb/s that got through", k)
	}
	// One window that measured little costs a little.
	now = now.Add(tierTick)
	e.update(now, 100, 0.15, 0)
	if k, _ := e.estimate(); k < 240 {
		t.Fatalf("estimate = %.0f after one window of 100 kb/s at 15%% loss, want about 268", k)
	}
	// Moderate loss holds.
	now = now.Add(tierTick)
	before, _ := e.estimate()
	e.update(now, 250, 0.05, 0)
	if k, _ := e.estimate(); k != before {
		t.Errorf("estimate moved from %.0f to %.0f at 5%% loss", before, k)
	}
	// No loss: grows about 8% a second, no further than 1.5 times what gets through...
	for range 40 {
		now = now.Add(tierTick)
		e.update(now, 250, 0, 0)
	}
	if k, _ := e.estimate(); k != 375 {
		t.Errorf("estimate = %.0f after 20 s at 250 kb/s without loss, want 375", k)
	}
	// ... or than the probe ceiling.
	start := now
	for {
		now = now.Add(tierTick)
		e.update(now, 250, 0, probeCeiling(TierLow))
		if k, _ := e.estimate(); k >= tierHighMin*tierUpMargin {
			break
		}
		if now.Sub(start) > 10*time.Second {
			t.Fatal("the estimate did not grow to the probe ceiling")
		}
	}
	t.Logf("from 375 to %.0f kb/s in %v", tierHighMin*tierUpMargin, now.Sub(start))
	if k, _ := e.estimate(); k > probeCeiling(TierLow) {
		t.Errorf("estimate = %.0f, above the probe ceiling %.0f", k, probeCeiling(TierLow))
	}
}
