// Package notify turns what changed in the store into notices on the bus, for the sockets that show it: a
// conversation's events and summary, typing, offers, presence and queue positions. The chat service and the
// routing engine both announce through it; the realtime package turns notices into frames.
package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/parley/parley/internal/store"
)

// Publisher is the part of the bus a Notifier needs.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte) error
}

// Subjects on which connections listen.
func VisitorSubject(visitorID string) string { return "visitor." + visitorID }
func SiteSubject(siteID string) string       { return "site." + siteID }
func AccountSubject(accountID string) string { return "account." + accountID }
func GroupSubject(groupID string) string     { return "group." + groupID }

// Notice kinds.
const (
	KindEvent         = "event"
	KindConversation  = "conversation"
	KindTyping        = "typing"
	KindRead          = "read"
	KindRevoke        = "revoke"
	KindOffer         = "offer"
	KindOfferEnded    = "offer.ended"
	KindPresence      = "presence"
	KindQueue         = "queue"
	KindVideo         = "video"
	KindCall          = "call"
	KindCallCandidate = "call.candidate"
	KindCallMedia     = "call.media"
	KindCallInvite    = "call.invite"
	// KindNote is an agent's note: it goes to the desks only (the site's subject), never to a visitor's.
	KindNote = "note"
)

// Notice is what goes on the bus. Connections turn it into frames.
type Notice struct {
	Kind string `json:"kind"`
	// AgentID is the conversation's agent when the notice was sent ("" while nobody has it). Desks show a
	// conversation's events only to its agent, or to everyone in its groups while it waits.
	AgentID       string             `json:"agent_id,omitempty"`
	Event         *EventView         `json:"event,omitempty"`
	Conversation  *SummaryView       `json:"conversation,omitempty"`
	Typing        *TypingView        `json:"typing,omitempty"`
	Offer         *OfferView         `json:"offer,omitempty"`
	OfferEnded    *OfferEnded        `json:"offer_ended,omitempty"`
	Presence      *PresenceView      `json:"presence,omitempty"`
	Queue         *QueueView         `json:"queue,omitempty"`
	Video         *VideoView         `json:"video,omitempty"`
	Call          *CallView          `json:"call,omitempty"`
	CallCandidate *CallCandidateView `json:"call_candidate,omitempty"`
	CallMedia     *CallMediaView     `json:"call_media,omitempty"`
	CallInvite    *InviteView        `json:"call_invite,omitempty"`
	CallQuality   *CallQualityView   `json:"call_quality,omitempty"`
	Note          *NoteView          `json:"note,omitempty"`
	Read          *ReadView          `json:"read,omitempty"`
	// ReceivedAt is when the frame that caused this notice reached the server (Unix nanoseconds), for the
	// delivery latency metric.
	ReceivedAt int64 `json:"received_at,omitempty"`
}

// TypingView says that one side is typing, or stopped.
type TypingView struct {
	ConversationID string `json:"conversation_id"`
	Author         string `json:"author"`
	Typing         bool   `json:"typing"`
}

// ReadView says that one side has seen a conversation up to Seq (docs/protocol.md, `read`).
type ReadView struct {
	ConversationID string `json:"conversation_id"`
	Reader         string `json:"reader"` // visitor or agent
	Seq            int64  `json:"seq"`
}

// OfferView is an offer ringing on a desk (docs/protocol.md, OFFER).
type OfferView struct {
	OfferID        string      `json:"offer_id"`
	ConversationID string      `json:"conversation_id"`
	Channel        string      `json:"channel"`
	Deadline       int64       `json:"deadline"`
	Conversation   SummaryView `json:"conversation"`
}

// OfferEnded says an offer stopped ringing, and why.
type OfferEnded struct {
	OfferID string `json:"offer_id"`
	Reason  string `json:"reason"`
}

// PresenceView is an agent's presence (docs/protocol.md, PRESENCE).
type PresenceView struct {
	AgentID   string `json:"agent_id"`
	AgentName string `json:"agent_name"`
	Chat      string `json:"chat"`
	Video     string `json:"video"`
}

// QueueView is a visitor's place in the queue (docs/protocol.md, QUEUE).
type QueueView struct {
	ConversationID string   `json:"conversation_id"`
	Channel        string   `json:"channel"`
	State          string   `json:"state"`
	Position       int      `json:"position"`
	ETA            *ETAView `json:"eta,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	// OpensAt is, for a conversation refused outside the group's opening hours ("closed"), when it opens next
	// (Unix milliseconds).
	OpensAt int64 `json:"opens_at,omitempty"`
}

// ETAView is an estimated wait, in a bucket.
type ETAView struct {
	Bucket  string `json:"bucket"`
	Seconds *int   `json:"seconds,omitempty"`
	// Reason says why the wait is unknown when it is because nobody is available on the channel: "no_agent".
	Reason string `json:"reason,omitempty"`
}

// Notifier publishes notices.
type Notifier struct {
	st  *store.Store
	pub Publisher
	log *slog.Logger
	// onEvents, when set, is also told about every committed event (the webhooks to a company's systems).
	onEvents func(c store.Conversation, evs []store.Event)
}

// OnEvents has fn told about every conversation event this node commits, after the clients. fn must not block.
// Set it before the notifier is used.
func (n *Notifier) OnEvents(fn func(c store.Conversation, evs []store.Event)) {
	n.onEvents = fn
}

// New builds a Notifier.
func New(st *store.Store, pub Publisher, log *slog.Logger) *Notifier {
	return &Notifier{st: st, pub: pub, log: log}
}

// Events tells the visitor's tabs and the site's desks about committed events.
func (n *Notifier) Events(ctx context.Context, c store.Conversation, evs []store.Event, receivedAt time.Time) {
	var at int64
	if !receivedAt.IsZero() {
		at = receivedAt.UnixNano()
	}
	for _, e := range evs {
		v := ViewEvent(e)
		no := Notice{Kind: KindEvent, AgentID: c.AgentID, Event: &v, ReceivedAt: at}
		n.publish(ctx, VisitorSubject(c.VisitorID), no)
		n.publish(ctx, SiteSubject(c.SiteID), no)
	}
	if n.onEvents != nil && len(evs) > 0 {
		n.onEvents(c, evs)
	}
}

// Note tells the site's desks about an agent's note on conversation c. Only desks publish it; visitors' subjects
// never carry notes.
func (n *Notifier) Note(ctx context.Context, c store.Conversation, note store.Note) {
	v := ViewNote(note)
	n.publish(ctx, SiteSubject(c.SiteID), Notice{Kind: KindNote, AgentID: c.AgentID, Note: &v})
}

// Summary tells the site's desks that a conversation appeared, changed hands or closed.
func (n *Notifier) Summary(ctx context.Context, convID string) {
	sm, err := n.st.ConversationSummary(ctx, convID)
	if err != nil {
		n.log.Error("conversation summary", slog.String("conversation_id", convID), slog.Any("error", err))
		return
	}
	n.SummaryOf(ctx, sm)
}

// SummaryOf is Summary for a summary the caller has just read.
func (n *Notifier) SummaryOf(ctx context.Context, sm store.Summary) {
	v := ViewSummary(sm)
	n.publish(ctx, SiteSubject(sm.SiteID), Notice{Kind: KindConversation, AgentID: sm.AgentID, Conversation: &v})
}

// Read tells the other side how far one side has read a conversation: a visitor's reading goes to the site's
// desks (agentID: the conversation's agent), an agent's to the visitor's subject.
func (n *Notifier) Read(ctx context.Context, subject, agentID string, r ReadView) {
	n.publish(ctx, subject, Notice{Kind: KindRead, AgentID: agentID, Read: &r})
}

// Typing tells one side that the other is typing.
func (n *Notifier) Typing(ctx context.Context, subject, agentID string, t TypingView) {
	n.publish(ctx, subject, Notice{Kind: KindTyping, AgentID: agentID, Typing: &t})
}

// Revoke asks an account's desks to re-check their sessions.
func (n *Notifier) Revoke(ctx context.Context, accountID string) {
	n.publish(ctx, AccountSubject(accountID), Notice{Kind: KindRevoke})
}

// Offer rings an agent's desk; sm is the summary of the offer's conversation, which the caller has just read.
func (n *Notifier) Offer(ctx context.Context, o store.Offer, sm store.Summary) {
	v := OfferView{OfferID: o.ID, ConversationID: o.ConversationID, Channel: o.Channel, Deadline: o.Deadline.UnixMilli(), Conversation: ViewSummary(sm)}
	n.publish(ctx, AccountSubject(o.AgentID), Notice{Kind: KindOffer, Offer: &v})
}

// OfferEnded stops an offer ringing.
func (n *Notifier) OfferEnded(ctx context.Context, o store.Offer) {
	n.publish(ctx, AccountSubject(o.AgentID), Notice{Kind: KindOfferEnded, OfferEnded: &OfferEnded{OfferID: o.ID, Reason: o.State}})
}

// Presence tells the agent and their groups' desks about a presence change.
func (n *Notifier) Presence(ctx context.Context, p store.Presence, name string, groupIDs []string) {
	v := PresenceView{AgentID: p.AccountID, AgentName: name, Chat: p.Chat, Video: p.Video}
	no := Notice{Kind: KindPresence, Presence: &v}
	n.publish(ctx, AccountSubject(p.AccountID), no)
	for _, g := range groupIDs {
		n.publish(ctx, GroupSubject(g), no)
	}
}

// Queue tells a visitor where their request stands.
func (n *Notifier) Queue(ctx context.Context, visitorID string, q QueueView) {
	n.publish(ctx, VisitorSubject(visitorID), Notice{Kind: KindQueue, Queue: &q})
}

func (n *Notifier) publish(ctx context.Context, subject string, no Notice) {
	data, err := json.Marshal(no)
	if err == nil {
		err = n.pub.Publish(ctx, subject, data)
	}
	if err != nil {
		// The bus only notifies: a connection that misses this catches up from the store when it resumes.
		n.log.Warn("publish", slog.String("subject", subject), slog.Any("error", err))
	}
}

// VideoSubject carries a routing group's video availability to the visitors of its sites.
func VideoSubject(groupID string) string { return "video." + groupID }

// Video tells the visitors of a group's sites whether video can be offered now.
func (n *Notifier) Video(ctx context.Context, groupID string, v VideoView) {
	n.publish(ctx, VideoSubject(groupID), Notice{Kind: KindVideo, Video: &v})
}

// Call tells the visitor and the call's agent where the call stands.
func (n *Notifier) Call(ctx context.Context, c CallView, visitorID string) {
	no := Notice{Kind: KindCall, AgentID: c.AgentID, Call: &c}
	n.publish(ctx, VisitorSubject(visitorID), no)
	if c.AgentID != "" {
		n.publish(ctx, AccountSubject(c.AgentID), no)
	}
}

// CallSides is Call with a view for each side: each carries that side's own TURN credentials.
func (n *Notifier) CallSides(ctx context.Context, visitor, agent CallView, visitorID string) {
	n.publish(ctx, VisitorSubject(visitorID), Notice{Kind: KindCall, AgentID: visitor.AgentID, Call: &visitor})
	if agent.AgentID != "" {
		n.publish(ctx, AccountSubject(agent.AgentID), Notice{Kind: KindCall, AgentID: agent.AgentID, Call: &agent})
	}
}

// CallCandidate gives one side of a call one of the relay's ICE candidates. subject is that side's subject.
func (n *Notifier) CallCandidate(ctx context.Context, subject string, v CallCandidateView) {
	n.publish(ctx, subject, Notice{Kind: KindCallCandidate, CallCandidate: &v})
}

// CallMedia tells the other side of a call that a camera or microphone was turned on or off.
func (n *Notifier) CallMedia(ctx context.Context, subject string, v CallMediaView) {
	n.publish(ctx, subject, Notice{Kind: KindCallMedia, CallMedia: &v})
}

// CallInvite tells the visitor and the inviting agent where an invitation to video stands.
func (n *Notifier) CallInvite(ctx context.Context, v InviteView, visitorID string) {
	no := Notice{Kind: KindCallInvite, AgentID: v.AgentID, CallInvite: &v}
	n.publish(ctx, VisitorSubject(visitorID), no)
	n.publish(ctx, AccountSubject(v.AgentID), no)
}
