package routing

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// announce tells everyone concerned what a decision changed: ringing and silenced desks, the assignment in the
// transcript, the visitor's place, and the desks' lists.
func (e *Engine) announce(ctx context.Context, d store.Decision) {
	// The conversation's summary, read once after the decision, goes with the offers (all for the decision's
	// request) and to the desks' lists, and names the visitor to tell.
	var sm *store.Summary
	if d.Request.ID != "" {
		if got, err := e.st.ConversationSummary(ctx, d.Request.ConversationID); err != nil {
			e.log.Error("conversation summary", slog.String("conversation_id", d.Request.ConversationID), slog.Any("error", err))
		} else {
			sm = &got
			if d.Request.VisitorID == "" {
				d.Request.VisitorID = got.VisitorID
			}
		}
	}
	for _, o := range d.NewOffers {
		if sm != nil {
			e.n.Offer(ctx, o, *sm)
		}
	}
	for _, o := range d.EndedOffers {
		e.n.OfferEnded(ctx, o)
	}
	for _, id := range d.NotResponding {
		e.announcePresence(ctx, id)
	}
	if d.Assigned != nil && len(d.Assigned.Events) > 0 {
		e.n.Events(ctx, d.Assigned.Conversation, d.Assigned.Events, time.Time{})
	}
	if d.Request.ID != "" {
		if d.Request.State != store.RequestQueued {
			e.announceRequest(ctx, d.Request, 0, nil)
		}
		if sm != nil {
			e.n.SummaryOf(ctx, *sm)
		}
		e.observe(ctx, d.Request)
	}
}

func (e *Engine) announceAll(ctx context.Context, ds []store.Decision) {
	for _, d := range ds {
		e.announce(ctx, d)
	}
}

// announceEnded tells visitors and desks about requests that left the queue without an agent.
func (e *Engine) announceEnded(ctx context.Context, rs []store.Request) {
	for _, r := range rs {
		e.announceRequest(ctx, r, 0, nil)
		e.n.Summary(ctx, r.ConversationID)
		e.observe(ctx, r)
	}
}

// announceRequest sends a request's state to its visitor, unless it is what they were last told.
func (e *Engine) announceRequest(ctx context.Context, r store.Request, position int, eta *notify.ETAView) {
	if r.VisitorID == "" {
		c, err := e.st.Conversation(ctx, r.ConversationID)
		if err != nil {
			e.log.Warn("queue announce", slog.String("conversation_id", r.ConversationID), slog.Any("error", err))
			return
		}
		r.VisitorID = c.VisitorID
	}
	v := notify.QueueView{ConversationID: r.ConversationID, Channel: r.Channel, State: r.State, Position: position, ETA: eta, Reason: r.Reason}
	e.withOpening(ctx, r, &v)
	e.mu.Lock()
	last, seen := e.seen[r.ID]
	same := seen && sameQueueView(last, v)
	if isFinal(r.State) {
		delete(e.seen, r.ID)
	} else {
		e.seen[r.ID] = v
	}
	e.mu.Unlock()
	if !same {
		e.n.Queue(ctx, r.VisitorID, v)
	}
}

func sameQueueView(a, b notify.QueueView) bool {
	if a.State != b.State || a.Position != b.Position || a.Reason != b.Reason || (a.ETA == nil) != (b.ETA == nil) {
		return false
	}
	return a.ETA == nil || (a.ETA.Bucket == b.ETA.Bucket && a.ETA.Reason == b.ETA.Reason)
}

func isFinal(state string) bool {
	switch state {
	case store.RequestQueued, store.RequestOffered:
		return false
	}
	return true
}

// queueKey names one queue: a group's, on a channel.
type queueKey struct{ group, channel string }

// announceQueue recomputes the position and estimated wait of everyone waiting in a group's queue on a channel,
// and tells those whose view changed. One refresh of a queue runs at a time: a change that comes while one runs
// makes it run once more when it ends, instead of a second refresh of the same queue in parallel. Under a burst of
// arrivals this keeps the work per change constant rather than growing with the queue.
func (e *Engine) announceQueue(ctx context.Context, groupID, channel string) {
	k := queueKey{groupID, channel}
	e.mu.Lock()
	if e.refreshing[k] {
		e.refreshAgain[k] = true
		e.mu.Unlock()
		return
	}
	e.refreshing[k] = true
	e.mu.Unlock()
	ctx = context.WithoutCancel(ctx) // it may be refreshing for other callers too
	e.refreshQueue(ctx, groupID, channel)
	e.mu.Lock()
	again := e.refreshAgain[k]
	delete(e.refreshAgain, k)
	delete(e.refreshing, k)
	e.mu.Unlock()
	if again {
		// Changes came meanwhile. Run refreshes for them, so a caller does at most one pass however busy the queue
		// is; without Run (or with its backlog full), the next Tick does.
		select {
		case e.stale <- k:
		default:
		}
	}
}

func (e *Engine) refreshQueue(ctx context.Context, groupID, channel string) {
	queue, err := e.st.Queue(ctx, groupID, channel)
	if err != nil || len(queue) == 0 {
		return
	}
	capacity, err := e.st.GroupCapacity(ctx, groupID, channel)
	if err != nil {
		e.log.Warn("group capacity", slog.Any("error", err))
		return
	}
	avg, err := e.st.GroupAverages(ctx, groupID, channel)
	if err != nil {
		e.log.Warn("group averages", slog.Any("error", err))
		return
	}
	excluded, err := e.st.QueueExclusions(ctx, groupID, channel)
	if err != nil {
		e.log.Warn("queue exclusions", slog.Any("error", err))
		return
	}
	for i, r := range queue {
		c := capacity
		if ex := excluded[r.ID]; len(ex) > 0 {
			c = capacity.Without(ex) // the agents who declined, missed or handed it over won't serve it
		}
		e.announceRequest(ctx, r, i+1, e.eta(ctx, r, i+1, c, avg))
	}
}

// eta estimates the wait of the request at position k and rounds it to a bucket, remembering the bucket shown.
func (e *Engine) eta(ctx context.Context, r store.Request, k int, c store.Capacity, a store.Averages) *notify.ETAView {
	w, ok := WaitOf(k, c, a, e.cfg.MinHistory)
	d := w.Mean()
	bucket := BucketOfWait(w, ok, r.ETABucket)
	if bucket != r.ETABucket {
		if err := e.st.SetETABucket(ctx, r.ID, bucket); err != nil {
			e.log.Warn("eta bucket", slog.Any("error", err))
		}
	}
	v := &notify.ETAView{Bucket: bucket}
	if c.Online == 0 {
		v.Reason = "no_agent" // the widget then offers to leave a message meanwhile
	}
	if ok {
		secs := int(d.Seconds())
		v.Seconds = &secs
	}
	return v
}

// announcePresence tells an agent's desks and their groups about their presence.
func (e *Engine) announcePresence(ctx context.Context, agentID string) {
	p, err := e.st.AgentPresence(ctx, agentID)
	if err != nil {
		return
	}
	a, err := e.st.Account(ctx, agentID)
	if err != nil {
		return
	}
	groups, _ := e.st.AccountGroupIDs(ctx, agentID)
	e.n.Presence(ctx, p, a.Name, groups)
}

// QueueState is where a conversation's chat request stands, for a visitor's hello; nil when it never had one.
func (e *Engine) QueueState(ctx context.Context, convID string) *notify.QueueView {
	return e.QueueStateOn(ctx, convID, store.ChannelChat)
}

// QueueStateOn is where a conversation's latest request on a channel stands; nil when it never had one.
func (e *Engine) QueueStateOn(ctx context.Context, convID, channel string) *notify.QueueView {
	r, err := e.st.LatestRequest(ctx, convID, channel)
	if err != nil {
		return nil
	}
	v := notify.QueueView{ConversationID: convID, Channel: r.Channel, State: r.State, Reason: r.Reason}
	e.withOpening(ctx, r, &v)
	if r.State == store.RequestQueued {
		queue, err := e.st.Queue(ctx, r.GroupID, r.Channel)
		if err == nil {
			for i, q := range queue {
				if q.ID == r.ID {
					v.Position = i + 1
				}
			}
			c, err1 := e.st.GroupCapacity(ctx, r.GroupID, r.Channel)
			a, err2 := e.st.GroupAverages(ctx, r.GroupID, r.Channel)
			if err1 == nil && err2 == nil {
				v.ETA = e.eta(ctx, r, v.Position, c, a)
			}
		}
	}
	return &v
}

// withOpening tells a visitor refused outside the group's opening hours when it opens next.
func (e *Engine) withOpening(ctx context.Context, r store.Request, v *notify.QueueView) {
	if r.Reason != ReasonClosed {
		return
	}
	g, err := e.st.Group(ctx, r.GroupID)
	if err != nil || g.Hours == nil {
		return
	}
	if at := g.Hours.NextOpening(e.now()); !at.IsZero() {
		v.OpensAt = at.UnixMilli()
	}
}

// DeskState is an agent's presence and ringing offers, for their desk's hello.
func (e *Engine) DeskState(ctx context.Context, agentID string) (notify.PresenceView, []notify.OfferView, error) {
	p, err := e.st.AgentPresence(ctx, agentID)
	if err != nil {
		return notify.PresenceView{}, nil, err
	}
	a, err := e.st.Account(ctx, agentID)
	if err != nil {
		return notify.PresenceView{}, nil, err
	}
	offers, err := e.st.PendingOffers(ctx, agentID)
	if err != nil {
		return notify.PresenceView{}, nil, err
	}
	views := []notify.OfferView{}
	for _, o := range offers {
		sm, err := e.st.ConversationSummary(ctx, o.ConversationID)
		if err != nil {
			continue
		}
		views = append(views, notify.OfferView{OfferID: o.ID, ConversationID: o.ConversationID, Channel: o.Channel,
			Deadline: o.Deadline.UnixMilli(), Conversation: notify.ViewSummary(sm)})
	}
	return notify.PresenceView{AgentID: agentID, AgentName: a.Name, Chat: p.Chat, Video: p.Video}, views, nil
}
