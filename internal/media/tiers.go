package media

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Tier is a publisher's video quality tier (DESIGN section 2, "Quality tiers").
type Tier string

// The three tiers, best first.
const (
	// TierHigh needs at least 400 kb/s; the browser sends up to 500 kb/s at about 640×360.
	TierHigh Tier = "high"
	// TierLow needs at least 128 kb/s; the browser sends up to 300 kb/s at about 320×180.
	TierLow Tier = "low"
	// TierAudio is below 128 kb/s: the browser stops sending video until the link recovers.
	TierAudio Tier = "audio"
)

// TierInfo is the target a publisher's browser applies with RTCRtpSender.setParameters.
type TierInfo struct {
	Tier Tier `json:"tier"`
	// MaxBitrateKbps is encodings[0].maxBitrate in kb/s; 0 for TierAudio.
	MaxBitrateKbps int `json:"max_bitrate_kbps"`
	// ScaleResolutionDownBy is encodings[0].scaleResolutionDownBy, from a 640×360 camera; 0 for TierAudio.
	ScaleResolutionDownBy float64 `json:"scale_resolution_down_by"`
	// EstimateKbps is the relay's estimate of the weaker of the two paths the publisher's video crosses.
	EstimateKbps int `json:"estimate_kbps"`
}

// TierChange is one entry of a call's tier history, for the call-quality record.
type TierChange struct {
	At           time.Time `json:"at"`
	Side         Side      `json:"side"`
	Tier         Tier      `json:"tier"`
	EstimateKbps int       `json:"estimate_kbps"`
}

// tierInfo returns the browser's target for tier t, on a path estimated at estimate kb/s (0: unknown). The low
// tier's bitrate is at most 300 kb/s, and less on a path that can't carry that, the audio, the packets' overhead
// and the retransmissions of what it loses: a link of 300 kb/s is on the low tier, and video sent at 300 kb/s
// would overflow it.
func tierInfo(t Tier, estimate float64) TierInfo {
	info := TierInfo{Tier: t, EstimateKbps: int(estimate + 0.5)}
	switch t {
	case TierHigh:
		info.MaxBitrateKbps, info.ScaleResolutionDownBy = tierHighKbps, 1
	case TierLow:
		info.MaxBitrateKbps, info.ScaleResolutionDownBy = tierLowKbps, 2
		if estimate > 0 {
			info.MaxBitrateKbps = int(max(tierLowFloorKbps, min(tierLowKbps, estimate*0.7-tierAudioKbps)))
		}
	}
	return info
}

// probeCeiling is how far a path's estimate may grow without loss while its publisher is on tier t: a little
// above the next tier's threshold, or nothing extra on the high tier.
func probeCeiling(t Tier) float64 {
	if t == TierHigh {
		return 0
	}
	return tierMin(tierAbove(t)) * tierUpMargin * 1.05
}

// Thresholds and timing of the tier decision. Down is quick: tierDownTicks windows in a row below the tier's
// minimum. Up is slow: the next tier's minimum plus a margin for tierUpTicks windows, and at least the hold time
// since the last change. An up-switch that falls back within tierProbeWindow was a failed probe: the hold doubles,
// up to tierMaxHold, so that a capped link tries the better tier less and less often.
const (
	tierHighKbps     = 500 // the high tier's video bitrate
	tierLowKbps      = 300 // the low tier's, at most
	tierLowFloorKbps = 80  // the low tier's, at least
	tierAudioKbps    = 40  // what Opus takes, for the room left to video
	tierTick         = 500 * time.Millisecond
	tierHighMin      = 400.0
	tierLowMin       = 128.0
	tierUpMargin     = 1.1
	tierDownTicks    = 3
	tierUpTicks      = 4
	tierHold         = 10 * time.Second
	tierMaxHold      = 60 * time.Second
	tierProbeWindow  = 8 * time.Second
	// tierSettle is how long the paths of a publisher that changed tiers are not measured: the queues drain what
	// it sent at the old rate, and that loss says nothing of the new one.
	tierSettle = 1500 * time.Millisecond
)

// tierFor is the best tier an estimate carries.
func tierFor(kbps float64) Tier {
	switch {
	case kbps >= tierHighMin:
		return TierHigh
	case kbps >= tierLowMin:
		return TierLow
	}
	return TierAudio
}

func tierMin(t Tier) float64 {
	switch t {
	case TierHigh:
		return tierHighMin
	case TierLow:
		return tierLowMin
	}
	return 0
}

// tierAbove is the next better tier.
func tierAbove(t Tier) Tier {
	if t == TierAudio {
		return TierLow
	}
	return TierHigh
}

// tierControl decides one publisher's tier. Only the call's tier loop touches it.
type tierControl struct {
	tier     Tier
	changed  time.Time
	hold     time.Duration
	downRun  int
	upRun    int
	probing  bool
	probedAt time.Time
	info     TierInfo // the target announced at the last change
}

func newTierControl(now time.Time) tierControl {
	return tierControl{tier: TierHigh, changed: now.Add(-tierSettle), hold: tierHold}
}

// step takes one window's estimate of the weaker path, and reports whether the tier changed.
func (tc *tierControl) step(now time.Time, kbps float64) bool {
	if tc.probing && now.Sub(tc.probedAt) >= tierProbeWindow {
		tc.probing, tc.hold = false, tierHold // the better tier held: the next probe may come sooner
	}
	switch {
	case kbps < tierMin(tc.tier):
		tc.upRun = 0
		if tc.downRun++; tc.downRun < tierDownTicks {
			return false
		}
		if tc.probing {
			tc.hold = min(2*tc.hold, tierMaxHold)
			tc.probing = false
		}
		tc.set(now, tierFor(kbps))
		return true
	case tc.tier != TierHigh && kbps >= tierMin(tierAbove(tc.tier))*tierUpMargin:
		tc.downRun = 0
		if tc.upRun++; tc.upRun < tierUpTicks || now.Sub(tc.changed) < tc.hold {
			return false
		}
		tc.set(now, tierAbove(tc.tier))
		tc.probing, tc.probedAt = true, now
		return true
	}
	tc.downRun, tc.upRun = 0, 0
	return false
}

func (tc *tierControl) set(now time.Time, t Tier) {
	tc.tier, tc.changed, tc.downRun, tc.upRun = t, now, 0, 0
}

// tiers is a call's tier state: a loop that measures both legs every tierTick and decides each publisher's tier.
type tiers struct {
	stop     chan struct{}
	stopOnce sync.Once

	mu      sync.Mutex // guards history
	history []TierChange
}

// runTiers is the call's tier loop; it returns when the call ends.
func (c *call) runTiers() {
	t := time.NewTicker(tierTick)
	defer t.Stop()
	now := time.Now()
	ctl := [2]tierControl{newTierControl(now), newTierControl(now)}
	var seen [2]*leg
	for {
		select {
		case <-c.tiers.stop:
			return
		case now = <-t.C:
		}
		var legs [2]*leg
		for i := range legs {
			if l := c.legs[i].Load(); l != nil && l.state.Load() == legConnected {
				legs[i] = l
				// Leg i's uplink carries side i's video, its downlink the other side's.
				l.measure(now, probeCeiling(ctl[i].tier), probeCeiling(ctl[1-i].tier),
					now.Sub(ctl[i].changed) < tierSettle, now.Sub(ctl[1-i].changed) < tierSettle)
			}
		}
		for i, side := range [2]Side{SideVisitor, SideAgent} {
			pub, sub := legs[i], legs[1-i]
			if pub != nil && pub != seen[i] {
				// A new leg (a join, or a reload): its browser starts at the high tier, so tell it the current
				// one unless that is high.
				seen[i] = pub
				if ctl[i].tier != TierHigh {
					c.announceTier(side, ctl[i].info, false)
				}
			}
			if pub == nil {
				continue
			}
			// The publisher's video crosses its uplink, then the other side's downlink: the weaker one decides.
			kbps, ok := pub.bwe.up.estimate()
			if sub != nil {
				if d, dok := sub.bwe.down.estimate(); dok && (!ok || d < kbps) {
					kbps, ok = d, true
				}
			}
			if !ok {
				continue
			}
			if c.relay.log.Enabled(context.Background(), slog.LevelDebug) {
				c.relay.log.Debug("bandwidth estimate", slog.String("call_id", c.id), slog.String("side", string(side)),
					slog.Int("kbps", int(kbps)), slog.Int("up_kbps", int(pub.bwe.up.kbps)),
					slog.Float64("up_loss", pub.bwe.up.loss), slog.Bool("down", sub != nil))
				if sub != nil {
					c.relay.log.Debug("bandwidth estimate down", slog.String("call_id", c.id),
						slog.String("side", string(side)), slog.Int("down_kbps", int(sub.bwe.down.kbps)),
						slog.Float64("down_loss", sub.bwe.down.loss))
				}
			}
			if !ctl[i].step(now, kbps) {
				// On the low tier, a path that turns out weaker than when the tier was chosen gets a lower
				// bitrate: the same tier, a new target.
				if ctl[i].tier == TierLow && ctl[i].downRun == 0 {
					if info := tierInfo(TierLow, kbps); info.MaxBitrateKbps < ctl[i].info.MaxBitrateKbps*4/5 {
						ctl[i].info = info
						c.announceTier(side, info, false)
					}
				}
				continue
			}
			c.relay.log.Info("quality tier", slog.String("call_id", c.id), slog.String("side", string(side)),
				slog.String("tier", string(ctl[i].tier)), slog.Int("estimate_kbps", int(kbps)))
			ctl[i].info = tierInfo(ctl[i].tier, kbps)
			c.announceTier(side, ctl[i].info, true)
		}
	}
}

// announceTier tells the owner of a side's tier; a change is also kept in the call's history.
func (c *call) announceTier(side Side, info TierInfo, change bool) {
	if change {
		c.tiers.mu.Lock()
		c.tiers.history = append(c.tiers.history, TierChange{At: time.Now(), Side: side, Tier: info.Tier,
			EstimateKbps: info.EstimateKbps})
		c.tiers.mu.Unlock()
	}
	h := c.hooks
	c.emit(func() { h.Tier(side, info) })
}

// tierHistory returns the call's tier changes so far.
func (c *call) tierHistory() []TierChange {
	c.tiers.mu.Lock()
	defer c.tiers.mu.Unlock()
	return append([]TierChange(nil), c.tiers.history...)
}

// stopTiers ends the call's tier loop.
func (c *call) stopTiers() { c.tiers.stopOnce.Do(func() { close(c.tiers.stop) }) }
