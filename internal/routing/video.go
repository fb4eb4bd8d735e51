package routing

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// OnRequest registers a function told about every request whose state the engine changed (offered, assigned,
// back in the queue, ended). The call service follows its video requests this way. Register before Run.
func (e *Engine) OnRequest(f func(context.Context, store.Request)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.observers = append(e.observers, f)
}

func (e *Engine) observe(ctx context.Context, r store.Request) {
	e.mu.Lock()
	obs := e.observers
	e.mu.Unlock()
	for _, f := range obs {
		f(ctx, r)
	}
}

// EnqueueVideo asks for an agent who is available for video, for a call in the conversation. created is told the
// request's id before any decision on it is announced. The returned request says where it stands: served at once,
// queued, or refused.
func (e *Engine) EnqueueVideo(ctx context.Context, c store.Conversation, created func(reqID string)) (store.Request, error) {
	return e.enqueue(ctx, c, store.ChannelVideo, 0, created)
}

// EndVideo settles the conversation's video request when its call ends: the agent's capacity comes back, or, while
// it still waited, it leaves the queue (reason says why: "visitor_left", "call_ended"). The chat goes on.
func (e *Engine) EndVideo(ctx context.Context, convID, waitingState, reason string) {
	e.endVideoAt(ctx, convID, waitingState, reason, e.now())
}

// endVideoAt is EndVideo for a call that ended at.
func (e *Engine) endVideoAt(ctx context.Context, convID, waitingState, reason string, at time.Time) {
	ds, err := e.st.EndChannelRequests(ctx, convID, store.ChannelVideo, waitingState, reason, at)
	if err != nil {
		e.log.Error("end video requests", slog.String("conversation_id", convID), slog.Any("error", err))
		return
	}
	e.announceAll(ctx, ds)
	for _, d := range ds {
		e.dispatch(ctx, d.Request.GroupID, d.Request.Channel)
	}
}

// VideoAvailability says whether a visitor of the site may be offered video now: the group takes video, and an
// agent is available for it with a free slot, or at least one is available and the video queue has room.
func (e *Engine) VideoAvailability(ctx context.Context, siteID string) (groupID string, v notify.VideoView, err error) {
	site, err := e.st.Site(ctx, siteID)
	if err != nil {
		return "", v, err
	}
	if site.GroupID == "" {
		return "", notify.VideoView{Reason: "channel_closed"}, nil
	}
	v, err = e.groupVideo(ctx, site.GroupID)
	return site.GroupID, v, err
}

func (e *Engine) groupVideo(ctx context.Context, groupID string) (notify.VideoView, error) {
	return e.groupAvailability(ctx, groupID, store.ChannelVideo)
}

// ChatAvailability says whether a new chat on the site would reach an agent soon: as VideoAvailability, for the
// chat channel. The widget shows proactive invitations only then.
func (e *Engine) ChatAvailability(ctx context.Context, siteID string) (notify.VideoView, error) {
	site, err := e.st.Site(ctx, siteID)
	if err != nil {
		return notify.VideoView{}, err
	}
	if site.GroupID == "" {
		return notify.VideoView{Reason: "channel_closed"}, nil
	}
	return e.groupAvailability(ctx, site.GroupID, store.ChannelChat)
}

// groupAvailability says whether the group can take a new request on channel now: it takes the channel, it is
// open, and an agent available on it has a free slot, or one is available and the queue has room.
func (e *Engine) groupAvailability(ctx context.Context, groupID, channel string) (notify.VideoView, error) {
	g, err := e.st.Group(ctx, groupID)
	if err != nil {
		return notify.VideoView{}, err
	}
	if !g.HasChannel(channel) {
		return notify.VideoView{Reason: "channel_closed"}, nil
	}
	if !g.Hours.OpenAt(e.now()) {
		return notify.VideoView{Reason: ReasonClosed}, nil
	}
	c, err := e.st.GroupCapacity(ctx, groupID, channel)
	if err != nil {
		return notify.VideoView{}, err
	}
	switch {
	case c.Online == 0:
		return notify.VideoView{Reason: "no_agent"}, nil
	case c.Free > 0:
		return notify.VideoView{Available: true}, nil
	}
	queue, err := e.st.Queue(ctx, groupID, channel)
	if err != nil {
		return notify.VideoView{}, err
	}
	if len(queue) < g.QueuePlaces {
		return notify.VideoView{Available: true}, nil
	}
	return notify.VideoView{Reason: "queue_full"}, nil
}

// followHours notes the groups whose opening hours opened or closed since the last tick: their visitors are told
// whether video can be offered now.
func (e *Engine) followHours(ctx context.Context, now time.Time) error {
	groups, err := e.st.GroupsWithHours(ctx)
	if err != nil {
		return err
	}
	for _, g := range groups {
		open := g.Hours.OpenAt(now)
		e.mu.Lock()
		last, seen := e.openSeen[g.ID]
		e.openSeen[g.ID] = open
		e.mu.Unlock()
		if seen && last != open {
			e.announceVideo(ctx, g.ID)
		}
	}
	return nil
}

// announceVideo notes that a group's video availability may have changed. The engine works it out and tells the
// group's visitors at most every VideoEvery (flushVideo), so that a busy queue doesn't pay for it on every decision.
func (e *Engine) announceVideo(_ context.Context, groupID string) {
	e.mu.Lock()
	e.videoDirty[groupID] = true
	e.mu.Unlock()
}

// flushVideo tells the visitors of the groups noted by announceVideo whether video can be offered, when that
// changed.
func (e *Engine) flushVideo(ctx context.Context) {
	e.mu.Lock()
	dirty := e.videoDirty
	e.videoDirty = map[string]bool{}
	e.mu.Unlock()
	for groupID := range dirty {
		v, err := e.groupVideo(ctx, groupID)
		if err != nil {
			e.log.Warn("video availability", slog.String("group_id", groupID), slog.Any("error", err))
			continue
		}
		e.mu.Lock()
		last, seen := e.videoSeen[groupID]
		e.videoSeen[groupID] = v
		e.mu.Unlock()
		if !seen || last.Available != v.Available || last.Reason != v.Reason {
			e.n.Video(ctx, groupID, v)
		}
	}
}

// AssignVideo gives the conversation's video straight to the agent, without the queue: the call an agent invited
// the visitor to. The agent's capacity rules still apply (ErrAtCapacity). created is told the request's id before
// the decision is announced.
func (e *Engine) AssignVideo(ctx context.Context, c store.Conversation, agentID string, created func(reqID string)) (store.Request, error) {
	d, err := e.st.AssignDirect(ctx, c.ID, store.ChannelVideo, agentID, e.now())
	if err != nil {
		return store.Request{}, mapErr(err)
	}
	if created != nil {
		created(d.Request.ID)
	}
	e.announce(ctx, d)
	e.announceVideo(ctx, d.Request.GroupID)
	return d.Request, nil
}
