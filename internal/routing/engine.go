// Package routing is the distribution engine (DESIGN section 4): presence per channel, capacity, routing groups,
// offers with deadlines, a queue in priority and arrival order, and the estimated wait shown in the waiting room.
// Every decision is one store transaction; the engine announces what changed through the notifier. It is plain
// Go with an injected clock: tests drive Tick by hand.
package routing

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// ReasonClosed refuses a conversation that arrives outside its group's opening hours.
const ReasonClosed = "closed"

// Errors callers map to protocol codes.
var (
	ErrNotFound   = errors.New("routing: not found")
	ErrConflict   = errors.New("routing: already taken or ended")
	ErrAtCapacity = errors.New("routing: agent at capacity")
	ErrBadInput   = errors.New("routing: invalid request")
	// ErrNotColleague and ErrUnavailable refuse a transfer to a named colleague: not in the conversation's group
	// (or the agent themselves), or not available for chat.
	ErrNotColleague = errors.New("routing: not a colleague in this conversation's group")
	ErrUnavailable  = errors.New("routing: the colleague is not available for chat")
)

// Config tunes the engine's timers.
type Config struct {
	// DeskAlive is how long a desk socket counts as open after its last heartbeat.
	DeskAlive time.Duration
	// Grace is how long an agent keeps their presence after their desk disconnects.
	Grace time.Duration
	// VisitorGone is how long a queued visitor may go unseen before they are taken out of the queue.
	VisitorGone time.Duration
	// MinHistory is how many handled conversations the average handling time needs before the wait is estimated.
	MinHistory int
	// TickEvery is how often Run enforces deadlines and refreshes the queue.
	TickEvery time.Duration
	// VideoEvery is how often Run tells visitors about changes in whether video can be offered.
	VideoEvery time.Duration
}

// DefaultConfig returns the engine's defaults.
func DefaultConfig() Config {
	return Config{DeskAlive: 60 * time.Second, Grace: 30 * time.Second, VisitorGone: 90 * time.Second, MinHistory: 3, TickEvery: time.Second,
		VideoEvery: 250 * time.Millisecond}
}

// Engine routes conversations to agents.
type Engine struct {
	st  *store.Store
	n   *notify.Notifier
	now func() time.Time
	log *slog.Logger
	cfg Config

	mu         sync.Mutex
	seen       map[string]notify.QueueView // last queue view announced per request, to announce only changes
	videoSeen  map[string]notify.VideoView // last video availability announced per group
	videoDirty map[string]bool             // groups whose video availability may have changed since the last flush
	openSeen   map[string]bool             // whether each group with opening hours was open at the last tick
	observers  []func(context.Context, store.Request)
	// refreshing marks the queues whose positions and estimates are being recomputed; refreshAgain those that
	// changed meanwhile and need one more pass.
	refreshing, refreshAgain map[queueKey]bool
	stale                    chan queueKey // queues that changed during their last refresh, for Run
	settledAt                time.Time     // when Tick last looked for routing left live by an end cut short
}

// New builds an engine.
func New(st *store.Store, n *notify.Notifier, now func() time.Time, log *slog.Logger, cfg Config) *Engine {
	return &Engine{st: st, n: n, now: now, log: log, cfg: cfg, seen: map[string]notify.QueueView{},
		videoSeen: map[string]notify.VideoView{}, videoDirty: map[string]bool{}, openSeen: map[string]bool{}, refreshing: map[queueKey]bool{},
		refreshAgain: map[queueKey]bool{}, stale: make(chan queueKey, 64)}
}

// Run enforces deadlines and refreshes estimates every TickEvery until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.cfg.TickEvery)
	defer t.Stop()
	every := e.cfg.VideoEvery
	if every <= 0 {
		every = e.cfg.TickEvery
	}
	v := time.NewTicker(every)
	defer v.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-v.C:
			e.flushVideo(ctx)
		case k := <-e.stale:
			e.announceQueue(ctx, k.group, k.channel)
		case <-t.C:
			if err := e.Tick(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("routing tick", slog.Any("error", err))
			}
		}
	}
}

// Tick does the engine's timed work at the clock's now: offers past their deadline time out, requests past the
// group's maximum wait expire, visitors gone for VisitorGone leave the queue, agents whose desk has been gone for the
// grace period go offline, groups that opened or closed tell their visitors whether video is offered, and every
// queue is dispatched and its estimates refreshed.
func (e *Engine) Tick(ctx context.Context) error {
	now := e.now()
	ds, err := e.st.TimeOutOffers(ctx, now)
	e.announceAll(ctx, ds)
	if err != nil {
		return err
	}
	expired, err := e.st.ExpireRequests(ctx, now)
	e.announceEnded(ctx, expired)
	if err != nil {
		return err
	}
	gone, err := e.st.AbandonStaleRequests(ctx, now.Add(-e.cfg.VisitorGone), now)
	e.announceEnded(ctx, gone)
	if err != nil {
		return err
	}
	offline, ds, err := e.st.OfflineDisconnectedAgents(ctx, now.Add(-e.cfg.DeskAlive), now.Add(-e.cfg.Grace), now)
	e.announceAll(ctx, ds)
	if err != nil {
		return err
	}
	for _, id := range offline {
		e.announcePresence(ctx, id)
		groups, _ := e.st.AccountGroupIDs(ctx, id)
		for _, g := range groups {
			e.announceVideo(ctx, g)
		}
	}
	if err := e.settleClosed(ctx, now); err != nil {
		return err
	}
	if err := e.followHours(ctx, now); err != nil {
		return err
	}
	queues, err := e.st.QueuedGroups(ctx)
	if err != nil {
		return err
	}
	for _, gc := range queues {
		e.dispatch(ctx, gc[0], gc[1])
	}
	e.flushVideo(ctx)
	return nil
}

// settleEvery is how often Tick looks for routing left live by an end cut short.
const settleEvery = 30 * time.Second

// settleClosed settles, every settleEvery, the requests of conversations that closed, and of calls that ended,
// without it: an end stopped halfway (the process stopped, or the database failed the second step) would otherwise
// keep the agent's video slot or the request's place for good. They are settled as of the time of the end.
func (e *Engine) settleClosed(ctx context.Context, now time.Time) error {
	e.mu.Lock()
	due := now.Sub(e.settledAt) >= settleEvery
	if due {
		e.settledAt = now
	}
	e.mu.Unlock()
	if !due {
		return nil
	}
	left, err := e.st.UnsettledRequests(ctx)
	if err != nil {
		return err
	}
	for _, u := range left {
		e.log.Warn("settling routing left live by an end cut short", slog.String("conversation_id", u.ConversationID),
			slog.String("channel", u.Channel))
		if u.Channel == "" {
			e.settle(ctx, u.ConversationID, u.At)
		} else {
			e.endVideoAt(ctx, u.ConversationID, store.RequestCancelled, "call_ended", u.At)
		}
	}
	return nil
}

// Enqueue asks for an agent for a new conversation's chat, on its site's routing group. A full queue refuses it;
// the visitor is told either way.
func (e *Engine) Enqueue(ctx context.Context, c store.Conversation) error {
	_, err := e.enqueue(ctx, c, store.ChannelChat, 0, nil)
	return err
}

// enqueue creates the conversation's request on the channel and serves it at once when it can. created, when set,
// is told the request's id before any decision is announced.
func (e *Engine) enqueue(ctx context.Context, c store.Conversation, channel string, priority int, created func(string)) (store.Request, error) {
	// The desks' lists learn of the conversation from the decision that served or refused it, or else from here.
	announced := false
	defer func() {
		if !announced {
			e.n.Summary(ctx, c.ID)
		}
	}()
	g, err := e.st.SiteGroup(ctx, c.SiteID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Request{}, errors.New("routing: the site has no routing group")
	}
	if err != nil {
		return store.Request{}, err
	}
	r, err := e.st.CreateRequest(ctx, c.ID, channel, g.ID, priority, e.now())
	if err != nil {
		return store.Request{}, err
	}
	if created != nil {
		created(r.ID)
	}
	if !g.Hours.OpenAt(e.now()) {
		r, err = e.st.Refuse(ctx, r.ID, ReasonClosed, e.now())
		if err == nil {
			announced = true
			e.announceEnded(ctx, []store.Request{r})
		}
		return r, err
	}
	if !g.HasChannel(channel) {
		r, err = e.st.Refuse(ctx, r.ID, "channel_closed", e.now())
		if err == nil {
			announced = true
			e.announceEnded(ctx, []store.Request{r})
		}
		return r, err
	}
	if decided, ok := e.serve(ctx, g.ID, channel)[r.ID]; ok {
		announced = true
		return decided, nil
	}
	// Still waiting: it must fit in the queue's places.
	ahead, err := e.st.QueueAhead(ctx, r)
	if err != nil {
		return r, err
	}
	if ahead >= g.QueuePlaces {
		refused, err := e.st.Refuse(ctx, r.ID, "queue_full", e.now())
		switch {
		case err == nil:
			announced = true
			e.announceEnded(ctx, []store.Request{refused})
			return refused, nil
		case !errors.Is(err, store.ErrConflict): // a conflict: it left the queue meanwhile, served
			return r, err
		}
	}
	e.announceQueue(ctx, g.ID, channel)
	return e.st.Request(ctx, r.ID)
}

// dispatch serves a group's queue on a channel until no waiting request can be served, then refreshes the
// estimates of those still waiting.
func (e *Engine) dispatch(ctx context.Context, groupID, channel string) {
	e.serve(ctx, groupID, channel)
	e.announceQueue(ctx, groupID, channel)
	e.announceVideo(ctx, groupID)
}

// serve makes routing decisions for a group's queue until none is left to make, and returns the requests served
// by id, as the decisions left them.
func (e *Engine) serve(ctx context.Context, groupID, channel string) map[string]store.Request {
	served := map[string]store.Request{}
	for i := 0; i < 1000; i++ {
		d, ok, err := e.st.DispatchOne(ctx, groupID, channel, e.now())
		if err != nil {
			e.log.Error("dispatch", slog.String("group_id", groupID), slog.Any("error", err))
			break
		}
		if !ok {
			break
		}
		served[d.Request.ID] = d.Request
		e.announce(ctx, d)
	}
	return served
}

// Accept assigns an offered conversation to the agent. It returns the conversation's id.
func (e *Engine) Accept(ctx context.Context, agentID, offerID string) (string, error) {
	d, err := e.st.AcceptOffer(ctx, offerID, agentID, e.now())
	if err != nil {
		return "", mapErr(err)
	}
	e.announce(ctx, d)
	e.announceQueue(ctx, d.Request.GroupID, d.Request.Channel)
	e.announceVideo(ctx, d.Request.GroupID)
	return d.Request.ConversationID, nil
}

// Decline gives an offer back: the conversation goes to someone else.
func (e *Engine) Decline(ctx context.Context, agentID, offerID string) error {
	d, err := e.st.DeclineOffer(ctx, offerID, agentID, e.now())
	if err != nil {
		return mapErr(err)
	}
	e.announce(ctx, d)
	e.dispatch(ctx, d.Request.GroupID, d.Request.Channel)
	return nil
}

// Claim lets an agent take a waiting conversation of their groups, within their capacity.
func (e *Engine) Claim(ctx context.Context, agentID, convID string) error {
	d, err := e.st.Claim(ctx, convID, agentID, e.now())
	if err != nil {
		return mapErr(err)
	}
	e.announce(ctx, d)
	e.announceQueue(ctx, d.Request.GroupID, d.Request.Channel)
	e.announceVideo(ctx, d.Request.GroupID)
	return nil
}

// Transfer hands the agent's conversation over (store.Transfer): to the group's queue, ahead of new arrivals, for
// a colleague to take, or, with toAgentID, to that colleague at once. Then it serves the queue: the agent's slot is
// free.
func (e *Engine) Transfer(ctx context.Context, agentID, agentName, convID, toAgentID string) error {
	d, app, err := e.st.Transfer(ctx, convID, agentID, agentName, toAgentID, e.now())
	if err != nil {
		return mapErr(err)
	}
	e.n.Events(ctx, app.Conversation, app.Events, time.Time{})
	if toAgentID == "" {
		e.n.Summary(ctx, convID)
	} else {
		e.announce(ctx, d)
	}
	e.dispatch(ctx, d.Request.GroupID, store.ChannelChat)
	return nil
}

// Colleagues lists who the agent's conversation could be transferred to (store.Colleagues).
func (e *Engine) Colleagues(ctx context.Context, agentID, convID string) ([]store.Colleague, error) {
	cs, err := e.st.Colleagues(ctx, convID, agentID)
	return cs, mapErr(err)
}

// SetPresence sets an agent's status on a channel. Becoming available may serve the queue at once; leaving
// withdraws the agent's ringing offers.
func (e *Engine) SetPresence(ctx context.Context, agentID, channel, status string) (store.Presence, error) {
	if channel != store.ChannelChat && channel != store.ChannelVideo {
		return store.Presence{}, ErrBadInput
	}
	switch status {
	case store.StatusAvailable, store.StatusAway, store.StatusOffline:
	default:
		return store.Presence{}, ErrBadInput // not_responding is the server's to set
	}
	p, ds, err := e.st.SetPresence(ctx, agentID, channel, status, e.now())
	if err != nil {
		return store.Presence{}, err
	}
	e.announceAll(ctx, ds)
	e.announcePresence(ctx, agentID)
	groups, err := e.st.AccountGroupIDs(ctx, agentID)
	if err != nil {
		return p, err
	}
	for _, g := range groups {
		e.dispatch(ctx, g, channel)
	}
	return p, nil
}

// Leave takes a visitor's conversation out of the queue: they stopped waiting.
func (e *Engine) Leave(ctx context.Context, visitorID, convID string) error {
	rs, err := e.st.AbandonRequest(ctx, convID, visitorID, e.now())
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return ErrNotFound
	}
	e.announceEnded(ctx, rs)
	return nil
}

// Ended settles the routing of a closed conversation: the agent's slot frees up and the queue moves.
func (e *Engine) Ended(ctx context.Context, convID string) {
	e.settle(ctx, convID, e.now())
}

// settle settles the requests of a conversation that closed at closedAt.
func (e *Engine) settle(ctx context.Context, convID string, closedAt time.Time) {
	ds, err := e.st.EndConversationRequests(ctx, convID, closedAt)
	if err != nil {
		e.log.Error("end conversation requests", slog.String("conversation_id", convID), slog.Any("error", err))
		return
	}
	e.announceAll(ctx, ds)
	for _, d := range ds {
		e.dispatch(ctx, d.Request.GroupID, d.Request.Channel)
	}
}

// StillWaiting records that a queued visitor is still there.
func (e *Engine) StillWaiting(ctx context.Context, convID string) {
	if err := e.st.TouchVisitor(ctx, convID, e.now()); err != nil {
		e.log.Warn("touch visitor", slog.Any("error", err))
	}
}

func mapErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrOfferEnded), errors.Is(err, store.ErrConflict):
		return ErrConflict
	case errors.Is(err, store.ErrAtCapacity):
		return ErrAtCapacity
	case errors.Is(err, store.ErrClosed):
		return ErrConflict
	case errors.Is(err, store.ErrNotColleague):
		return ErrNotColleague
	case errors.Is(err, store.ErrUnavailable):
		return ErrUnavailable
	}
	return err
}
