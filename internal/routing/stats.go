package routing

import (
	"context"
	"slices"
	"time"

	"github.com/parley/parley/internal/store"
)

// GroupStats is the supervisor's view of a group (docs/api.md, GROUP_STATS): who waits on any channel, each of the
// group's channels on its own, and how visitors rated its conversations over the last 24 hours.
type GroupStats struct {
	GroupID            string         `json:"group_id"`
	Name               string         `json:"name"`
	Waiting            int            `json:"waiting"`
	LongestWaitSeconds int            `json:"longest_wait_seconds"`
	Channels           []ChannelStats `json:"channels"`
	Ratings            RatingStats    `json:"ratings"`
}

// RatingStats are the visitors' ratings (1 to 5) given over the last 24 hours: how many, and their average (null
// when none).
type RatingStats struct {
	Count   int      `json:"count"`
	Average *float64 `json:"average"`
}

// RatingsWindow is the period the supervisors' rating figures cover.
const RatingsWindow = 24 * time.Hour

// ChannelStats is one channel of a group: its queue, its agents by their status on the channel, the engine's
// running averages, and the p90 wait of the requests assigned in the last 15 minutes.
type ChannelStats struct {
	Channel            string         `json:"channel"`
	Waiting            int            `json:"waiting"`
	LongestWaitSeconds int            `json:"longest_wait_seconds"`
	Agents             map[string]int `json:"agents"`
	AvgAcceptSeconds   *float64       `json:"avg_accept_seconds"`
	AvgHandlingSeconds *float64       `json:"avg_handling_seconds"`
	P90WaitSeconds     *float64       `json:"p90_wait_seconds"`
}

// Stats measures every group now.
func (e *Engine) Stats(ctx context.Context) ([]GroupStats, error) {
	groups, err := e.st.Groups(ctx)
	if err != nil {
		return nil, err
	}
	now := e.now()
	out := []GroupStats{}
	for _, g := range groups {
		gs := GroupStats{GroupID: g.ID, Name: g.Name, Channels: []ChannelStats{}}
		for _, ch := range []string{store.ChannelChat, store.ChannelVideo} {
			if !slices.Contains(g.Channels, ch) {
				continue
			}
			cs, err := e.channelStats(ctx, g.ID, ch, now)
			if err != nil {
				return nil, err
			}
			gs.Waiting += cs.Waiting
			gs.LongestWaitSeconds = max(gs.LongestWaitSeconds, cs.LongestWaitSeconds)
			gs.Channels = append(gs.Channels, cs)
		}
		rs, err := e.st.GroupRatings(ctx, g.ID, now.Add(-RatingsWindow))
		if err != nil {
			return nil, err
		}
		gs.Ratings.Count = rs.Count
		if rs.Count > 0 {
			gs.Ratings.Average = ptr(rs.Average)
		}
		out = append(out, gs)
	}
	return out, nil
}

func (e *Engine) channelStats(ctx context.Context, groupID, channel string, now time.Time) (ChannelStats, error) {
	cs := ChannelStats{Channel: channel}
	queue, err := e.st.Queue(ctx, groupID, channel)
	if err != nil {
		return cs, err
	}
	cs.Waiting = len(queue)
	for _, r := range queue {
		cs.LongestWaitSeconds = max(cs.LongestWaitSeconds, int(now.Sub(r.EnqueuedAt).Seconds()))
	}
	if cs.Agents, err = e.st.GroupPresence(ctx, groupID, channel); err != nil {
		return cs, err
	}
	avg, err := e.st.GroupAverages(ctx, groupID, channel)
	if err != nil {
		return cs, err
	}
	if avg.ACCSamples > 0 {
		cs.AvgAcceptSeconds = ptr(avg.ACC.Seconds())
	}
	if avg.AHTSamples > 0 {
		cs.AvgHandlingSeconds = ptr(avg.AHT.Seconds())
	}
	waits, err := e.st.RecentWaits(ctx, groupID, channel, now.Add(-15*time.Minute))
	if err != nil {
		return cs, err
	}
	if len(waits) > 0 {
		slices.Sort(waits)
		cs.P90WaitSeconds = ptr(waits[(len(waits)*9+9)/10-1].Seconds())
	}
	return cs, nil
}

func ptr[T any](v T) *T { return &v }
