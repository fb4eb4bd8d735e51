package routing

import (
	"context"
	"slices"
	"time"

	"github.com/parley/parley/internal/store"
)

// GroupStats is the supervisor's view of a group (docs/api.md, GROUP_STATS).
type GroupStats struct {
	GroupID            string         `json:"group_id"`
	Name               string         `json:"name"`
	Waiting            int            `json:"waiting"`
	LongestWaitSeconds int            `json:"longest_wait_seconds"`
	Agents             map[string]int `json:"agents"`
	AvgAcceptSeconds   *float64       `json:"avg_accept_seconds"`
	AvgHandlingSeconds *float64       `json:"avg_handling_seconds"`
	P90WaitSeconds     *float64       `json:"p90_wait_seconds"`
}

// Stats measures every group now: who waits, agents by chat status, the running averages, and the p90 wait of
// the conversations assigned in the last 15 minutes.
func (e *Engine) Stats(ctx context.Context) ([]GroupStats, error) {
	groups, err := e.st.Groups(ctx)
	if err != nil {
		return nil, err
	}
	now := e.now()
	out := []GroupStats{}
	for _, g := range groups {
		gs := GroupStats{GroupID: g.ID, Name: g.Name}
		for _, ch := range []string{store.ChannelChat, store.ChannelVideo} {
			queue, err := e.st.Queue(ctx, g.ID, ch)
			if err != nil {
				return nil, err
			}
			gs.Waiting += len(queue)
			for _, r := range queue {
				gs.LongestWaitSeconds = max(gs.LongestWaitSeconds, int(now.Sub(r.EnqueuedAt).Seconds()))
			}
		}
		if gs.Agents, err = e.st.GroupPresence(ctx, g.ID); err != nil {
			return nil, err
		}
		avg, err := e.st.GroupAverages(ctx, g.ID, store.ChannelChat)
		if err != nil {
			return nil, err
		}
		if avg.ACCSamples > 0 {
			gs.AvgAcceptSeconds = ptr(avg.ACC.Seconds())
		}
		if avg.AHTSamples > 0 {
			gs.AvgHandlingSeconds = ptr(avg.AHT.Seconds())
		}
		waits, err := e.st.RecentWaits(ctx, g.ID, now.Add(-15*time.Minute))
		if err != nil {
			return nil, err
		}
		if len(waits) > 0 {
			slices.Sort(waits)
			gs.P90WaitSeconds = ptr(waits[(len(waits)*9+9)/10-1].Seconds())
		}
		out = append(out, gs)
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }
