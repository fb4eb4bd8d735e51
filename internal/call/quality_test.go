package call

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// notices records what the notifier publishes, by subject.
type notices struct {
	mu  sync.Mutex
	got map[string][]notify.Notice
}

func (n *notices) Publish(_ context.Context, subject string, data []byte) error {
	var no notify.Notice
	if err := json.Unmarshal(data, &no); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got[subject] = append(n.got[subject], no)
	return nil
}

func (n *notices) last(t *testing.T, subject string) notify.CallQualityView {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	list := n.got[subject]
	if len(list) == 0 || list[len(list)-1].CallQuality == nil {
		t.Fatalf("no call.quality notice for %s: %+v", subject, list)
	}
	return *list[len(list)-1].CallQuality
}

// The relay's Tier hook becomes a call.quality frame for each side: its own target, and the other side's tier.
func TestTierHookSendsCallQuality(t *testing.T) {
	pub := &notices{got: map[string][]notify.Notice{}}
	log := slog.New(slog.DiscardHandler)
	s := &Service{n: notify.New(nil, pub, log), log: log, now: time.Now, live: map[string]*liveCall{}}
	c := store.Call{ID: "call_1", VisitorID: "v1", AgentID: "ag_1"}
	s.mu.Lock()
	s.track(c.ID)
	s.mu.Unlock()
	hooks := s.hooks(c)
	visitor, agent := notify.VisitorSubject("v1"), notify.AccountSubject("ag_1")

	tests := []struct {
		side           media.Side
		info           media.TierInfo
		visitor, agent notify.CallQualityView
	}{
		{media.SideVisitor, media.TierInfo{Tier: media.TierLow, MaxBitrateKbps: 170, ScaleResolutionDownBy: 2, EstimateKbps: 300},
			notify.CallQualityView{CallID: "call_1", Side: "visitor", Tier: "low", MaxBitrateKbps: 170, ScaleResolutionDownBy: 2, PeerTier: "high"},
			notify.CallQualityView{CallID: "call_1", Side: "agent", Tier: "high", MaxBitrateKbps: 500, ScaleResolutionDownBy: 1, PeerTier: "low"}},
		{media.SideAgent, media.TierInfo{Tier: media.TierAudio, EstimateKbps: 90},
			notify.CallQualityView{CallID: "call_1", Side: "visitor", Tier: "low", MaxBitrateKbps: 170, ScaleResolutionDownBy: 2, PeerTier: "audio"},
			notify.CallQualityView{CallID: "call_1", Side: "agent", Tier: "audio", PeerTier: "low"}},
	}
	for _, tt := range tests {
		hooks.Tier(tt.side, tt.info)
		if got := pub.last(t, visitor); got != tt.visitor {
			t.Errorf("after %s %s, visitor got %+v, want %+v", tt.side, tt.info.Tier, got, tt.visitor)
		}
		if got := pub.last(t, agent); got != tt.agent {
			t.Errorf("after %s %s, agent got %+v, want %+v", tt.side, tt.info.Tier, got, tt.agent)
		}
	}

	// A call this node no longer relays sends nothing.
	before := len(pub.got[visitor])
	s.mu.Lock()
	delete(s.live, c.ID)
	s.mu.Unlock()
	hooks.Tier(media.SideVisitor, media.TierInfo{Tier: media.TierHigh})
	if len(pub.got[visitor]) != before {
		t.Error("call.quality sent for a call that ended")
	}
}

func TestQualityRecordListsTierChanges(t *testing.T) {
	at := time.UnixMilli(1_763_768_400_000)
	stats := media.CallStats{Tiers: []media.TierChange{
		{At: at, Side: media.SideVisitor, Tier: media.TierLow, EstimateKbps: 290},
		{At: at.Add(9 * time.Second), Side: media.SideVisitor, Tier: media.TierHigh, EstimateKbps: 462},
	}}
	b, err := json.Marshal(Quality{Tiers: tierChanges(stats)})
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Tiers []map[string]any `json:"tiers"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Tiers) != 2 || rec.Tiers[0]["tier"] != "low" || rec.Tiers[0]["side"] != "visitor" ||
		rec.Tiers[0]["at"] != float64(1_763_768_400_000) || rec.Tiers[1]["estimate_kbps"] != float64(462) {
		t.Errorf("tiers in the record = %s", b)
	}
	if b, _ := json.Marshal(Quality{Tiers: tierChanges(media.CallStats{})}); !json.Valid(b) ||
		!strings.Contains(string(b), `"tiers":[]`) {
		t.Errorf("a call without changes: %s, want an empty tiers list", b)
	}
}
