// Package call runs video calls inside conversations (DESIGN section 1): a visitor asks for video, the distribution
// engine finds an agent who is available for it, the agent answers, both sides connect to the media relay, and a
// hang-up ends the video while the chat goes on. The call's routing lives in the engine (a request on the video
// channel); this package follows it, keeps the call's own record, and drives the relay. It is plain Go with an
// injected clock.
package call

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/parley/parley/internal/bus"
	"github.com/parley/parley/internal/media"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// Errors the realtime layer maps to protocol codes.
var (
	ErrNotFound    = errors.New("call: not found")                             // unknown, or not this party's
	ErrUnavailable = errors.New("call: video can't be offered here")           // the video frame's reason says why
	ErrConflict    = errors.New("call: a call is already under way")           // or the call is not in a state for this
	ErrNotLive     = errors.New("call: the call is not live")                  // connect before the agent answered
	ErrLegTaken    = errors.New("call: this side is connected from elsewhere") // another tab holds the leg
	ErrBadInput    = errors.New("call: invalid request")
	ErrForbidden   = errors.New("call: this agent may not invite visitors into video") // no escalation permission
	ErrAgentBusy   = errors.New("call: the agent has no room for a call now")          // capacity rules
)

// Relay is the media relay, as the call service drives it.
type Relay interface {
	Open(callID string, hooks media.Hooks) error
	Join(ctx context.Context, callID string, side media.Side, offerSDP string, replace bool) (string, error)
	// Restart renegotiates that side's existing leg (an ICE restart), keeping its DTLS session and tracks; it
	// fails with media.ErrNoLeg when the offer is not from the leg's own RTCPeerConnection.
	Restart(ctx context.Context, callID string, side media.Side, offerSDP string) (string, error)
	AddCandidate(callID string, side media.Side, c *media.Candidate) error
	End(callID string) (media.CallStats, error)
}

// Party is who acts on a call: a visitor (VisitorID and SiteID set) or an agent (AgentID set). ConnID names the
// socket, so that one tab's leg is not taken over by another's.
type Party struct {
	VisitorID string
	SiteID    string
	AgentID   string
	ConnID    string
}

func (p Party) side() media.Side {
	if p.AgentID != "" {
		return media.SideAgent
	}
	return media.SideVisitor
}

// Deps are what the call service needs.
type Deps struct {
	Store    *store.Store
	Router   *routing.Engine
	Notifier *notify.Notifier
	Relay    Relay
	// Bus and NodeID let calls span nodes: a call's media stays on the node whose relay the first side joined, and
	// the other nodes reach that relay over the bus. Without a bus, every call is relayed here.
	Bus    bus.Bus
	NodeID string
	Now    func() time.Time
	Log    *slog.Logger
	// LegTimeout ends a live call when neither side has been connected to the relay for this long (both tabs
	// closed, or the network gone). Default 60 s.
	LegTimeout time.Duration
	// InviteTTL is how long an agent's invitation to video waits for the visitor's answer. Default 60 s.
	InviteTTL time.Duration
	// LobbyTTL is how long an accepted invitation waits for the visitor to join from the lobby. Default 2 min.
	LobbyTTL time.Duration
	// SiteVideo returns a site's camera policy and video notification; by default the camera is allowed and on, and
	// the widget's own notification is shown.
	SiteVideo func(ctx context.Context, siteID string) notify.SiteVideo
	// ICEServers returns the TURN servers, with fresh short-lived credentials, for one side of a live call; they go
	// in that side's CALL only. Nil: no TURN (the browser reaches the relay directly, over UDP or ICE-TCP).
	ICEServers func(callID string, side media.Side) []notify.ICEServer
}

// Service runs calls.
type Service struct {
	st     *store.Store
	router *routing.Engine
	n      *notify.Notifier
	relay  Relay
	now    func() time.Time
	log    *slog.Logger
	cfg    Deps

	mu      sync.Mutex
	legs    map[legKey]legOwner        // the socket that holds each connected leg, and the node relaying it
	live    map[string]*liveCall       // calls this node relays, by id
	pending map[string]chan relayReply // relay requests sent to other nodes, waiting for their reply
}

type legOwner struct {
	conn string
	node string
}

type legKey struct {
	call string
	side media.Side
}

// liveCall is what this node knows of a call whose media it relays.
type liveCall struct {
	since     time.Time // answered, or when this node first saw it
	connected map[media.Side]bool
	lastLeg   time.Time                     // when a leg was last connected
	tiers     map[media.Side]media.TierInfo // each side's publishing tier, from the relay (quality.go)
}

// New builds the call service and subscribes it to the engine's decisions.
func New(d Deps) *Service {
	if d.LegTimeout <= 0 {
		d.LegTimeout = 60 * time.Second
	}
	if d.InviteTTL <= 0 {
		d.InviteTTL = 60 * time.Second
	}
	if d.LobbyTTL <= 0 {
		d.LobbyTTL = 2 * time.Minute
	}
	if d.SiteVideo == nil {
		d.SiteVideo = func(context.Context, string) notify.SiteVideo {
			return notify.SiteVideo{Camera: notify.CameraView{Allowed: true}}
		}
	}
	s := &Service{st: d.Store, router: d.Router, n: d.Notifier, relay: d.Relay, now: d.Now, log: d.Log, cfg: d,
		legs: map[legKey]legOwner{}, live: map[string]*liveCall{}, pending: map[string]chan relayReply{}}
	d.Router.OnRequest(s.requestChanged)
	return s
}

// View returns a call as clients see it.
func (s *Service) View(ctx context.Context, c store.Call) notify.CallView {
	return notify.ViewCall(c, s.cfg.SiteVideo(ctx, c.SiteID).Camera)
}

// viewFor is View for one of the call's participants: while the call is live, it carries that side's own TURN
// servers and credentials.
func (s *Service) viewFor(ctx context.Context, c store.Call, side media.Side) notify.CallView {
	v := s.View(ctx, c)
	if c.State == store.CallLive && s.cfg.ICEServers != nil {
		v.ICEServers = s.cfg.ICEServers(c.ID, side)
	}
	return v
}

// notifyCall tells both participants where the call stands, each with their own view.
func (s *Service) notifyCall(ctx context.Context, c store.Call) {
	if c.State != store.CallLive || s.cfg.ICEServers == nil {
		s.n.Call(ctx, s.View(ctx, c), c.VisitorID)
		return
	}
	s.n.CallSides(ctx, s.viewFor(ctx, c, media.SideVisitor), s.viewFor(ctx, c, media.SideAgent), c.VisitorID)
}

// Availability says whether the visitor may be offered video now in the conversation (convID may be empty), and
// the routing group whose changes they should follow.
func (s *Service) Availability(ctx context.Context, siteID, convID string) (string, notify.VideoView, error) {
	groupID, v, err := s.router.VideoAvailability(ctx, siteID)
	if err != nil {
		return "", v, err
	}
	sv := s.cfg.SiteVideo(ctx, siteID)
	v.Camera, v.Notification = sv.Camera, sv.Notification
	if convID != "" {
		if used, err := s.st.VideoUsed(ctx, convID); err == nil && used {
			v.Available, v.Reason = false, "used"
		}
	}
	return groupID, v, nil
}

// Request starts a video call for a visitor in their conversation (opened if they have none), routed on the video
// channel. It returns the call as it stands after the first routing decision.
//
// With inviteID, the call is the one an agent invited the visitor to (or a bot's handover to video): it goes
// straight to that agent, and may follow an earlier call in the conversation.
func (s *Service) Request(ctx context.Context, p Party, convID, inviteID string) (notify.CallView, error) {
	if p.VisitorID == "" {
		return notify.CallView{}, ErrBadInput
	}
	conv, err := s.conversation(ctx, p, convID)
	if err != nil {
		return notify.CallView{}, err
	}
	if inviteID != "" {
		return s.requestInvited(ctx, p, conv, inviteID)
	}
	if _, v, err := s.Availability(ctx, p.SiteID, conv.ID); err != nil {
		return notify.CallView{}, err
	} else if !v.Available && v.Reason != "no_agent" && v.Reason != "queue_full" {
		// An agent may have become free, or the queue may have room, since the widget was told otherwise: let the
		// engine decide those. A group without video, or a conversation that had its call, is refused here.
		return notify.CallView{}, ErrUnavailable
	}
	c, err := s.st.CreateCall(ctx, conv.ID, p.VisitorID, s.now())
	switch {
	case errors.Is(err, store.ErrConflict):
		return notify.CallView{}, ErrConflict
	case errors.Is(err, store.ErrVideoUsed):
		return notify.CallView{}, ErrUnavailable
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrClosed):
		return notify.CallView{}, ErrNotFound
	case err != nil:
		return notify.CallView{}, err
	}
	_, err = s.router.EnqueueVideo(ctx, conv, func(reqID string) {
		if err := s.st.LinkCallRequest(ctx, c.ID, reqID); err != nil {
			s.log.Error("link call request", slog.String("call_id", c.ID), slog.Any("error", err))
		}
	})
	if err != nil {
		s.finish(ctx, c.ID, "system", "failed")
		return notify.CallView{}, err
	}
	c, err = s.st.Call(ctx, c.ID)
	if err != nil {
		return notify.CallView{}, err
	}
	return s.viewFor(ctx, c, media.SideVisitor), nil
}

// conversation finds the visitor's conversation for a call: the one named, or their open one, or a new one (which
// is routed for chat too, so that it has an agent even if the video can't happen).
func (s *Service) conversation(ctx context.Context, p Party, convID string) (store.Conversation, error) {
	if convID != "" {
		c, err := s.st.Conversation(ctx, convID)
		if err != nil || c.VisitorID != p.VisitorID || c.SiteID != p.SiteID {
			return store.Conversation{}, ErrNotFound
		}
		if c.Status != store.StatusOpen {
			return store.Conversation{}, ErrNotFound
		}
		return c, nil
	}
	c, created, err := s.st.OpenOrCreateConversation(ctx, p.SiteID, p.VisitorID, s.now())
	if err != nil {
		return store.Conversation{}, err
	}
	if created {
		if err := s.router.Enqueue(ctx, c); err != nil {
			s.log.Error("enqueue conversation", slog.String("conversation_id", c.ID), slog.Any("error", err))
			s.n.Summary(ctx, c.ID)
		}
	}
	return c, nil
}

// party checks that p is one of the call's two participants.
func (s *Service) party(ctx context.Context, p Party, callID string) (store.Call, error) {
	c, err := s.st.Call(ctx, callID)
	if err != nil {
		return store.Call{}, ErrNotFound
	}
	switch {
	case p.AgentID != "" && c.AgentID == p.AgentID:
	case p.VisitorID != "" && c.VisitorID == p.VisitorID && c.SiteID == p.SiteID:
	default:
		return store.Call{}, ErrNotFound
	}
	return c, nil
}

// Connect joins one side's browser to the relay: offerSDP is its offer; the answer is returned and the relay's
// candidates follow as notices. A reload connects again and replaces that side's old leg; a new offer from the
// same RTCPeerConnection (an ICE restart) renegotiates it instead. While another socket of the same party holds
// the leg (another tab), a connection gets ErrLegTaken, unless takeOver says the party moves the call here: the
// leg is then replaced, and the old socket's offers (its ICE restarts) get ErrLegTaken in turn.
func (s *Service) Connect(ctx context.Context, p Party, callID, offerSDP string, takeOver bool) (string, error) {
	c, err := s.party(ctx, p, callID)
	if err != nil {
		return "", err
	}
	if c.State != store.CallLive {
		return "", ErrNotLive
	}
	side := p.side()
	key := legKey{callID, side}
	node, err := s.st.PinCall(ctx, callID, s.cfg.NodeID)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if owner := s.legs[key]; owner.conn != "" && owner.conn != p.ConnID && !takeOver {
		s.mu.Unlock()
		return "", ErrLegTaken
	}
	s.legs[key] = legOwner{conn: p.ConnID, node: node}
	s.mu.Unlock()

	answer, err := s.join(ctx, node, c, side, offerSDP)
	if err != nil {
		s.release(key, p.ConnID)
		return "", err
	}
	return answer, nil
}

// join connects one side to the call's relay: this node's, or another node's over the bus.
func (s *Service) join(ctx context.Context, node string, c store.Call, side media.Side, offerSDP string) (string, error) {
	if !s.local(node) {
		rep, err := s.ask(ctx, node, relayRequest{Op: "join", CallID: c.ID, Side: side, SDP: offerSDP})
		return rep.Answer, err
	}
	s.mu.Lock()
	s.track(c.ID)
	s.mu.Unlock()
	if err := s.relay.Open(c.ID, s.hooks(c)); err != nil {
		return "", err
	}
	// The same RTCPeerConnection offering again (an ICE restart after a network change, from the same socket or
	// from a socket that resumed) renegotiates its leg: media comes back without a new DTLS handshake. Any other
	// offer (a reloaded page) replaces the leg.
	answer, err := s.relay.Restart(ctx, c.ID, side, offerSDP)
	if !errors.Is(err, media.ErrNoLeg) {
		return answer, err
	}
	return s.relay.Join(ctx, c.ID, side, offerSDP, true)
}

func (s *Service) release(key legKey, connID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.legs[key].conn == connID {
		delete(s.legs, key)
	}
}

// track notes that this node relays the call; s.mu is held.
func (s *Service) track(callID string) *liveCall {
	lc := s.live[callID]
	if lc == nil {
		now := s.now()
		lc = &liveCall{since: now, lastLeg: now, connected: map[media.Side]bool{}}
		s.live[callID] = lc
	}
	return lc
}

// hooks routes the relay's news about a call's legs: candidates to that side's sockets, connection states to the
// watchdog.
func (s *Service) hooks(c store.Call) media.Hooks {
	callID, visitorID, agentID := c.ID, c.VisitorID, c.AgentID
	subject := func(side media.Side) string {
		if side == media.SideAgent {
			return notify.AccountSubject(agentID)
		}
		return notify.VisitorSubject(visitorID)
	}
	return media.Hooks{
		Candidate: func(side media.Side, cand *media.Candidate) {
			raw := json.RawMessage("null")
			if cand != nil {
				if b, err := json.Marshal(cand); err == nil {
					raw = b
				}
			}
			s.n.CallCandidate(context.Background(), subject(side), notify.CallCandidateView{CallID: callID, Side: string(side), Candidate: raw})
		},
		Connected: func(side media.Side) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if lc := s.live[callID]; lc != nil {
				lc.connected[side], lc.lastLeg = true, s.now()
			}
		},
		FirstMedia: func(side media.Side) {
			s.log.Debug("first media", slog.String("call_id", callID), slog.String("side", string(side)))
		},
		Tier: func(side media.Side, info media.TierInfo) { s.tierChanged(callID, subject, side, info) },
		Failed: func(side media.Side) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if lc := s.live[callID]; lc != nil {
				if lc.connected[side] {
					lc.lastLeg = s.now()
				}
				lc.connected[side] = false
			}
		},
	}
}

// Candidate passes one of a browser's ICE candidates to its leg (nil: the end of its candidates).
func (s *Service) Candidate(ctx context.Context, p Party, callID string, cand *media.Candidate) error {
	side := p.side()
	s.mu.Lock()
	owner := s.legs[legKey{callID, side}]
	s.mu.Unlock()
	if owner.conn == "" || owner.conn != p.ConnID {
		// A browser may trickle candidates before its call.connect is answered. The relay doesn't need them: it
		// learns the browser's addresses from its connectivity checks. Drop them quietly.
		_, err := s.party(ctx, p, callID)
		return err
	}
	if !s.local(owner.node) {
		_, err := s.ask(ctx, owner.node, relayRequest{Op: "candidate", CallID: callID, Side: side, Candidate: cand})
		return err
	}
	return s.relay.AddCandidate(callID, side, cand)
}

// Media records that one side turned its camera or microphone on or off, and tells the other side.
func (s *Service) Media(ctx context.Context, p Party, callID string, camera, mic bool) error {
	c, err := s.party(ctx, p, callID)
	if err != nil {
		return err
	}
	side := p.side()
	if err := s.st.SetCallMedia(ctx, callID, side == media.SideAgent, camera, mic); err != nil {
		return ErrConflict
	}
	v := notify.CallMediaView{CallID: callID, Side: string(side), Camera: camera, Mic: mic}
	if side == media.SideAgent {
		s.n.CallMedia(ctx, notify.VisitorSubject(c.VisitorID), v)
	} else if c.AgentID != "" {
		s.n.CallMedia(ctx, notify.AccountSubject(c.AgentID), v)
	}
	return nil
}

// Hangup ends the video from one side; the chat goes on. A visitor who hangs up while still waiting leaves the
// queue.
func (s *Service) Hangup(ctx context.Context, p Party, callID string) (notify.CallView, error) {
	c, err := s.party(ctx, p, callID)
	if err != nil {
		return notify.CallView{}, err
	}
	switch c.State {
	case store.CallEnded:
		return s.View(ctx, c), nil
	case store.CallQueued, store.CallRinging:
		if p.AgentID != "" {
			return notify.CallView{}, ErrConflict // a ringing call is declined, not hung up
		}
		s.finish(ctx, callID, string(media.SideVisitor), "abandoned")
	default:
		s.finish(ctx, callID, string(p.side()), "hangup")
	}
	c, err = s.st.Call(ctx, callID)
	if err != nil {
		return notify.CallView{}, err
	}
	return s.View(ctx, c), nil
}

// Disconnected is told that a socket closed: the legs it held may be taken by the same party's next socket.
func (s *Service) Disconnected(connID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, owner := range s.legs {
		if owner.conn == connID {
			delete(s.legs, k)
		}
	}
}

// VisitorCall returns the call under way in a visitor's conversation, or nil.
func (s *Service) VisitorCall(ctx context.Context, convID string) *notify.CallView {
	c, err := s.st.LiveCall(ctx, convID)
	if err != nil {
		return nil
	}
	v := s.viewFor(ctx, c, media.SideVisitor)
	return &v
}

// AgentCalls returns the calls under way that an agent answered.
func (s *Service) AgentCalls(ctx context.Context, agentID string) []notify.CallView {
	cs, err := s.st.AgentCalls(ctx, agentID)
	out := []notify.CallView{}
	if err != nil {
		s.log.Warn("agent calls", slog.Any("error", err))
		return out
	}
	for _, c := range cs {
		out = append(out, s.viewFor(ctx, c, media.SideAgent))
	}
	return out
}

// requestChanged follows the engine's decisions on video requests: ringing, back in the queue, answered, or over.
func (s *Service) requestChanged(ctx context.Context, r store.Request) {
	if r.Channel == store.ChannelChat && r.State == store.RequestAssigned {
		s.handOver(ctx, r.ConversationID, r.AgentID) // a bot's handover to video, if there was one
	}
	if r.Channel != store.ChannelVideo {
		return
	}
	c, err := s.st.LiveCall(ctx, r.ConversationID)
	if err != nil {
		return // no call under way: this request's call has already ended
	}
	if c.RequestID != r.ID {
		if c.RequestID != "" {
			return // an older request of the conversation
		}
		if err := s.st.LinkCallRequest(ctx, c.ID, r.ID); err != nil {
			s.log.Error("link call request", slog.String("call_id", c.ID), slog.Any("error", err))
		}
	}
	switch r.State {
	case store.RequestQueued, store.RequestOffered:
		if c, err = s.st.Call(ctx, c.ID); err == nil {
			s.notifyCall(ctx, c)
		}
	case store.RequestAssigned:
		name := ""
		if a, err := s.st.Account(ctx, r.AgentID); err == nil {
			name = a.Name
		}
		answered, app, changed, err := s.st.AnswerCall(ctx, c.ID, r.AgentID, name, s.now())
		if err != nil {
			s.log.Error("answer call", slog.String("call_id", c.ID), slog.Any("error", err))
			return
		}
		if !changed {
			return
		}
		s.n.Events(ctx, app.Conversation, app.Events, time.Time{})
		s.notifyCall(ctx, answered)
		s.n.Summary(ctx, answered.ConversationID)
	case store.RequestClosed:
		s.finish(ctx, c.ID, "agent", "conversation_ended")
	case store.RequestCancelled:
		reason := "failed"
		if r.Reason == "conversation_ended" {
			reason = "conversation_ended"
		}
		s.finish(ctx, c.ID, "system", reason)
	case store.RequestRefused:
		s.finish(ctx, c.ID, "system", "refused")
	case store.RequestExpired:
		s.finish(ctx, c.ID, "system", "expired")
	case store.RequestAbandoned:
		s.finish(ctx, c.ID, "visitor", "abandoned")
	}
}

// Quality is the call-quality record kept with the transcript in the call_ended event.
type Quality struct {
	CallID     string                    `json:"call_id"`
	DurationMS int64                     `json:"duration_ms"`
	EndedBy    string                    `json:"ended_by"`
	Reason     string                    `json:"reason"`
	Legs       map[string]media.LegStats `json:"legs"`
	// Tiers lists the quality tier changes of the call, in order (quality.go); empty when both sides stayed high.
	Tiers []TierChange `json:"tiers"`
}

// finish ends a call once: the relay closes its legs and gives its stats, the call-quality record goes into the
// transcript, both sides are told, and the video request is settled so that the agent's capacity comes back.
func (s *Service) finish(ctx context.Context, callID, endedBy, reason string) {
	c, err := s.st.Call(ctx, callID)
	if err != nil || c.State == store.CallEnded {
		s.mu.Lock()
		delete(s.live, callID)
		s.mu.Unlock()
		return
	}
	var stats media.CallStats
	if c.NodeID != "" {
		stats, err = s.end(ctx, c.NodeID, callID)
	}
	if err != nil && !errors.Is(err, media.ErrNoCall) {
		s.log.Warn("end relay call", slog.String("call_id", callID), slog.Any("error", err))
	}
	now := s.now()
	q := Quality{CallID: callID, EndedBy: endedBy, Reason: reason,
		Legs:  map[string]media.LegStats{string(media.SideVisitor): stats.Visitor, string(media.SideAgent): stats.Agent},
		Tiers: tierChanges(stats)}
	if !c.AnsweredAt.IsZero() {
		q.DurationMS = now.Sub(c.AnsweredAt).Milliseconds()
	}
	record, _ := json.Marshal(q)
	ended, app, changed, err := s.st.EndCall(ctx, callID, endedBy, reason, string(record), now)
	if err != nil {
		s.log.Error("end call", slog.String("call_id", callID), slog.Any("error", err))
		return
	}
	s.mu.Lock()
	delete(s.live, callID)
	delete(s.legs, legKey{callID, media.SideVisitor})
	delete(s.legs, legKey{callID, media.SideAgent})
	s.mu.Unlock()
	if !changed {
		return
	}
	if len(app.Events) > 0 {
		s.n.Events(ctx, app.Conversation, app.Events, time.Time{})
	}
	s.notifyCall(ctx, ended)
	waiting := store.RequestCancelled
	if reason == "abandoned" {
		waiting = store.RequestAbandoned
	}
	s.router.EndVideo(ctx, c.ConversationID, waiting, "call_"+reason)
}

// Tick ends the live calls this node relays whose legs have both been gone for LegTimeout, and the calls answered
// that long ago to which no side ever connected.
func (s *Service) Tick(ctx context.Context) {
	s.expireInvites(ctx)
	now := s.now()
	if unjoined, err := s.st.StaleCalls(ctx, now.Add(-s.cfg.LegTimeout)); err != nil {
		s.log.Warn("stale calls", slog.Any("error", err))
	} else {
		for _, c := range unjoined {
			s.finish(ctx, c.ID, "system", "failed")
		}
	}
	var stale []string
	s.mu.Lock()
	for id, lc := range s.live {
		if lc.connected[media.SideVisitor] || lc.connected[media.SideAgent] {
			continue
		}
		if now.Sub(lc.lastLeg) >= s.cfg.LegTimeout {
			stale = append(stale, id)
		}
	}
	s.mu.Unlock()
	for _, id := range stale {
		s.finish(ctx, id, "system", "failed")
	}
}

// Run calls Tick every second until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Tick(ctx)
		}
	}
}
