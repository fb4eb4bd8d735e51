package media

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// Bandwidth estimation. Each leg has two paths: up (the browser's media to the relay) and down (the relay's media
// to the browser). Every tierTick the call's tier loop measures each path over the last window: the rate that got
// through and the share of packets lost on the way. A loss-based controller in the style of Google Congestion
// Control (draft-ietf-rmcat-gcc-02 section 6) turns those into an estimate of the path's capacity:
//
//   - more than 10% lost: the path is over capacity; the estimate drops towards what got through (with a full
//     queue, that is the path's capacity) by up to half the loss rate per window (GCC's decrease, bounded), so
//     that one window that measured little, on a busy machine, costs little;
//   - 2% to 10% lost: hold;
//   - less than 2% lost, in the window and on average over the last few (so that a steady 3% loss holds): at
//     least what got through, and growing by 8% a second, up to 1.5 times what got through (a path is not known
//     to carry much more than it carries now), or up to the probe ceiling the tier loop gives: a little above
//     what the publisher's next tier needs, so that a publisher held on a lower tier (which sends less than the
//     path might carry) can try the next one after the hold. A probe on a path that is still capped fails within
//     a couple of seconds, and the tier loop waits longer before the next one.
//
// The measures come from what the relay sees anyway, with no work per packet but one atomic add:
//   - down: the bytes the relay wrote to the leg, and the TWCC feedback the browser returns about them
//     (draft-holmer-rmcat-transport-wide-cc-extensions-01): packets reported received over packets reported;
//     retransmissions have their own transport-wide sequence numbers, so this is the network's loss;
//   - up: the relay's own receive counts (bytes, and packets against the sequence-number span, RFC 3550
//     appendix A.3), and the browser's sender reports: the packets it says it sent between two reports at least
//     a second apart, against the packets the relay got meanwhile, when that shows more loss.
//
// There is no delay-based part: the tiers are coarse (128 and 400 kb/s), and a saturated link shows as loss within
// a second or two once its queue fills.
const (
	bweInitialKbps  = 600 // before any measure: browsers start a call at the high tier
	bweGrowthPerSec = 1.08
	bweGrowthCap    = 1.5
	bweLossHigh     = 0.10
	bweLossLow      = 0.02
	// bweMinPackets is how many packets a window needs before it counts: fewer make a loss rate too coarse.
	bweMinPackets = 20
)

// pathEstimate is the estimate of one path. Only the call's tier loop touches it.
type pathEstimate struct {
	kbps    float64 // 0: no measure yet
	loss    float64 // loss of the last window that counted
	lossAvg float64 // loss averaged over the last few windows (an EWMA)
	lastAt  time.Time
	hasData bool
}

// update folds one window's measure in: deliveredKbps got through, and loss (0..1) was lost. Without loss the
// estimate may grow up to probeKbps, whatever got through.
func (e *pathEstimate) update(now time.Time, deliveredKbps, loss, probeKbps float64) {
	dt := 0.5
	if !e.lastAt.IsZero() {
		dt = now.Sub(e.lastAt).Seconds()
	}
	e.lastAt = now
	e.loss = loss
	e.lossAvg += (loss - e.lossAvg) * 0.3
	if !e.hasData {
		e.hasData = true
		e.kbps = max(bweInitialKbps, deliveredKbps*bweGrowthCap)
	}
	switch {
	case loss > bweLossHigh:
		if e.kbps > deliveredKbps {
			e.kbps = max(deliveredKbps, e.kbps*(1-0.5*loss))
		}
	case loss < bweLossLow && e.lossAvg < bweLossLow:
		limit := max(deliveredKbps*bweGrowthCap, probeKbps)
		e.kbps = max(e.kbps, deliveredKbps)
		if e.kbps < limit {
			e.kbps = min(e.kbps*math.Pow(bweGrowthPerSec, dt), limit)
		}
	}
}

// estimate returns the path's estimate in kb/s, and false before any measure.
func (e *pathEstimate) estimate() (float64, bool) { return e.kbps, e.hasData }

// legBWE is a leg's share of bandwidth estimation.
type legBWE struct {
	// sent counts the bytes of RTP the relay wrote to the leg's browser (the forward loops add to it).
	sent atomic.Uint64

	mu         sync.Mutex // guards the feedback counts
	fbReported uint64     // packets the browser's TWCC feedback covered
	fbReceived uint64     // of which it received
	fbSeen     [8]uint32  // recent feedback packets, as base sequence number << 8 | feedback count, plus one
	fbNext     int
	sr         [kindCount]srMark // the browser's last sender report per kind
	srLoss     float64           // uplink loss between the browser's last two sender reports
	srLossAt   time.Time

	// The tier loop's own state.
	up, down             pathEstimate
	downAt, upAt         time.Time
	lastSent             uint64
	lastReported         uint64
	lastReceived         uint64
	lastPackets, lastExp [kindCount]uint64
	lastBytes            [kindCount]uint64
}

// srMark is a sender report's packet count, and how many of the stream's packets the relay had by then.
type srMark struct {
	ssrc     uint32
	sent     uint32
	received uint64
	at       time.Time
}

// srSpan is the least time between the two sender reports whose counts are compared: over a shorter time, too few
// packets make the loss rate coarse.
const srSpan = time.Second

// noteFeedback counts one TWCC feedback packet. pion may pass one packet to the readers of both the audio and the
// video sender: a packet already seen is skipped.
func (b *legBWE) noteFeedback(p *rtcp.TransportLayerCC) {
	key := (uint32(p.BaseSequenceNumber)<<8 | uint32(p.FbPktCount)) + 1 // 0 marks an empty slot
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range b.fbSeen {
		if k == key {
			return
		}
	}
	b.fbSeen[b.fbNext] = key
	b.fbNext = (b.fbNext + 1) % len(b.fbSeen)
	b.fbReported += uint64(p.PacketStatusCount)
	b.fbReceived += uint64(len(p.RecvDeltas))
}

// noteSenderReport compares a browser's sender report about its stream of kind k (RFC 3550 section 6.4.1: the
// packets it sent so far) with the packets of that stream the relay received, since the previous report.
func (l *leg) noteSenderReport(k kind, now time.Time, sr *rtcp.SenderReport) {
	received, _, _, _, _, _, _, _ := l.in[k].snapshot()
	b := &l.bwe
	b.mu.Lock()
	defer b.mu.Unlock()
	prev := b.sr[k]
	if prev.ssrc == sr.SSRC && now.Sub(prev.at) < srSpan {
		return
	}
	b.sr[k] = srMark{ssrc: sr.SSRC, sent: sr.PacketCount, received: received, at: now}
	if prev.ssrc != sr.SSRC || prev.sent == 0 {
		return
	}
	sent := uint64(sr.PacketCount - prev.sent)
	got := received - prev.received
	if sent < bweMinPackets || sent > 1<<16 {
		return
	}
	loss := 0.0
	if got < sent {
		loss = float64(sent-got) / float64(sent)
	}
	// One kind's report stands for the path; the larger loss of the two kinds' latest wins within a window.
	if now.Sub(b.srLossAt) > srSpan/2 || loss > b.srLoss {
		b.srLoss = loss
	}
	b.srLossAt = now
}

// measure updates the leg's two estimates with what happened since the windows began; upProbe and downProbe are
// the paths' probe ceilings (see pathEstimate.update). A frozen path's window passes without changing its
// estimate: its publisher just changed tiers, and the queues still hold what it sent before.
func (l *leg) measure(now time.Time, upProbe, downProbe float64, upFrozen, downFrozen bool) {
	b := &l.bwe
	if b.downAt.IsZero() {
		b.downAt, b.upAt = now, now
		b.lastSent = b.sent.Load()
		b.mu.Lock()
		b.lastReported, b.lastReceived = b.fbReported, b.fbReceived
		b.mu.Unlock()
		for k, in := range l.in {
			b.lastPackets[k], b.lastBytes[k], b.lastExp[k], _, _, _, _, _ = in.snapshot()
		}
		return
	}

	// Down: what the relay sent, and how much of it the browser says it got.
	b.mu.Lock()
	reported, received := b.fbReported-b.lastReported, b.fbReceived-b.lastReceived
	srLoss, srLossAt := b.srLoss, b.srLossAt
	b.mu.Unlock()
	if reported >= bweMinPackets {
		sent := b.sent.Load()
		loss := 1 - float64(received)/float64(reported)
		if secs := now.Sub(b.downAt).Seconds(); secs > 0 && !downFrozen {
			b.down.update(now, float64(sent-b.lastSent)*8/1000/secs*(1-loss), loss, downProbe)
		}
		b.lastSent, b.downAt = sent, now
		b.lastReported += reported
		b.lastReceived += received
	}

	// Up: what arrived from the browser, against the sequence numbers' span, or against the browser's own
	// count of what it sent when its last report is fresh and says more was lost.
	var packets, bytes, expected uint64
	var cur, curBytes, curExp [kindCount]uint64
	for k, in := range l.in {
		cur[k], curBytes[k], curExp[k], _, _, _, _, _ = in.snapshot()
		packets += cur[k] - b.lastPackets[k]
		bytes += curBytes[k] - b.lastBytes[k]
		expected += curExp[k] - b.lastExp[k]
	}
	if expected >= bweMinPackets {
		loss := 0.0
		if expected > packets {
			loss = float64(expected-packets) / float64(expected)
		}
		if now.Sub(srLossAt) < srSpan && srLoss > loss {
			loss = srLoss
		}
		if secs := now.Sub(b.upAt).Seconds(); secs > 0 && !upFrozen {
			b.up.update(now, float64(bytes)*8/1000/secs, loss, upProbe)
		}
		b.lastPackets, b.lastBytes, b.lastExp, b.upAt = cur, curBytes, curExp, now
	}
}
