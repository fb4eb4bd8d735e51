package call

import (
	"context"
	"log/slog"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/notify"
)

// TierChange is one entry of the call-quality record's tier history: when a side's publishing tier changed, to
// what, and the relay's estimate of the weaker path its video crossed then.
type TierChange struct {
	AtMS         int64  `json:"at"` // milliseconds since the Unix epoch
	Side         string `json:"side"`
	Tier         string `json:"tier"`
	EstimateKbps int    `json:"estimate_kbps"`
}

func tierChanges(stats media.CallStats) []TierChange {
	out := make([]TierChange, 0, len(stats.Tiers))
	for _, t := range stats.Tiers {
		out = append(out, TierChange{AtMS: t.At.UnixMilli(), Side: string(t.Side), Tier: string(t.Tier),
			EstimateKbps: t.EstimateKbps})
	}
	return out
}

// tierChanged runs the relay's Tier hook: side's publishing target changed (or its new leg must hear it again).
// Each side gets a call.quality frame with its own target and the other side's tier.
func (s *Service) tierChanged(callID string, subject func(media.Side) string, side media.Side, info media.TierInfo) {
	s.mu.Lock()
	lc := s.live[callID]
	if lc == nil {
		s.mu.Unlock()
		return
	}
	if lc.tiers == nil {
		lc.tiers = map[media.Side]media.TierInfo{}
	}
	lc.tiers[side] = info
	own, peer := lc.tiers, map[media.Side]media.TierInfo{}
	for k, v := range own {
		peer[k] = v
	}
	s.mu.Unlock()

	s.log.Info("call quality tier", slog.String("call_id", callID), slog.String("side", string(side)),
		slog.String("tier", string(info.Tier)), slog.Int("estimate_kbps", info.EstimateKbps))
	other := media.SideAgent
	if side == media.SideAgent {
		other = media.SideVisitor
	}
	ctx := context.Background()
	s.n.CallQuality(ctx, subject(side), qualityView(callID, side, info, peer[other]))
	s.n.CallQuality(ctx, subject(other), qualityView(callID, other, peer[other], info))
}

// qualityView is one side's call.quality frame; a side the relay said nothing of yet is on the high tier.
func qualityView(callID string, side media.Side, own, peer media.TierInfo) notify.CallQualityView {
	if own.Tier == "" {
		own = media.TierInfo{Tier: media.TierHigh, MaxBitrateKbps: 500, ScaleResolutionDownBy: 1}
	}
	if peer.Tier == "" {
		peer.Tier = media.TierHigh
	}
	return notify.CallQualityView{CallID: callID, Side: string(side), Tier: string(own.Tier),
		MaxBitrateKbps: own.MaxBitrateKbps, ScaleResolutionDownBy: own.ScaleResolutionDownBy,
		PeerTier: string(peer.Tier)}
}
