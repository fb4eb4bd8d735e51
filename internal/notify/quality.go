package notify

import "context"

// KindCallQuality is a call's quality tier notice (docs/protocol.md, "Quality tiers").
const KindCallQuality = "call.quality"

// CallQualityView tells one side of a call the target of the video it publishes, and the other side's tier for
// the quality indicator.
type CallQualityView struct {
	CallID string `json:"call_id"`
	Side   string `json:"side"`
	// Tier is "high", "low" or "audio" (stop sending video until a better tier comes).
	Tier                  string  `json:"tier"`
	MaxBitrateKbps        int     `json:"max_bitrate_kbps"`
	ScaleResolutionDownBy float64 `json:"scale_resolution_down_by"`
	PeerTier              string  `json:"peer_tier"`
}

// CallQuality tells one side of a call its quality tier. subject is that side's subject.
func (n *Notifier) CallQuality(ctx context.Context, subject string, v CallQualityView) {
	n.publish(ctx, subject, Notice{Kind: KindCallQuality, CallQuality: &v})
}
