// Package chat is the conversation service: visitors' and agents' messages, the end of a conversation, typing,
// and handing new conversations to the distribution engine. It is plain Go: it stores through the store, announces
// through a Notifier, and takes the time from an injected clock.
package chat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley/parley/internal/metrics"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// Errors the realtime layer maps to protocol codes.
var (
	ErrEmpty    = errors.New("chat: message is empty")
	ErrTooLong  = errors.New("chat: message is too long")
	ErrNotFound = errors.New("chat: conversation not found")
	ErrClosed   = errors.New("chat: conversation is closed")
)

// Router is the distribution engine, as the chat service uses it.
type Router interface {
	// Enqueue asks for an agent for a new conversation's chat.
	Enqueue(ctx context.Context, c store.Conversation) error
	// Ended settles the routing of a conversation that closed.
	Ended(ctx context.Context, convID string)
}

// Bots is the bot layer (internal/bot), as the chat service uses it. On a site with a bot, the bot answers first:
// while it is in charge, the conversation is not routed to the agents, and the bot routes it when it hands over.
type Bots interface {
	// Answers reports whether a bot answers the site's visitors first.
	Answers(ctx context.Context, siteID string) bool
	// Opened starts the site's bot in a conversation the widget opened; it reports whether a bot took it.
	Opened(ctx context.Context, c store.Conversation, lang string) bool
	// VisitorMessage hands a stored visitor message to the conversation's bot (created: the message opened the
	// conversation; quickReply: the quick reply chosen, if any). It reports whether a bot is in charge. It must not
	// block on anything slow.
	VisitorMessage(ctx context.Context, c store.Conversation, e store.Event, created bool, quickReply, lang string) bool
}

// Service runs conversations.
type Service struct {
	store      *store.Store
	notify     *notify.Notifier
	router     Router
	bots       Bots
	now        func() time.Time
	log        *slog.Logger
	metrics    *metrics.Metrics
	maxMessage int
	maxFile    int
}

// Deps are what the chat service needs. MaxMessage is the longest message, in characters.
type Deps struct {
	Store    *store.Store
	Notifier *notify.Notifier
	Router   Router
	// Bots may be nil: agents then answer every conversation at once.
	Bots       Bots
	Now        func() time.Time
	Log        *slog.Logger
	Metrics    *metrics.Metrics
	MaxMessage int
	// MaxFile is the largest file a visitor or an agent may send, in bytes; 0 turns files off.
	MaxFile int
}

// NewService builds the chat service.
func NewService(d Deps) *Service {
	return &Service{store: d.Store, notify: d.Notifier, router: d.Router, bots: d.Bots, now: d.Now, log: d.Log, metrics: d.Metrics, maxMessage: d.MaxMessage, maxFile: d.MaxFile}
}

// Visitor identifies the visitor behind a socket.
type Visitor struct {
	ID     string
	SiteID string
	// Lang is the widget's language ("en", "fr" or ""), for a bot's texts.
	Lang string
}

// MaxQuickReplyID is the longest quick-reply id a visitor may send.
const MaxQuickReplyID = 64

// ErrBadQuickReply is a quick-reply id that is too long.
var ErrBadQuickReply = errors.New("chat: quick reply id is too long")

// Agent identifies the agent behind a desk socket.
type Agent struct {
	ID   string
	Name string
}

func (s *Service) checkBody(body string) (string, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return "", ErrEmpty
	}
	if utf8.RuneCountInString(body) > s.maxMessage {
		return "", ErrTooLong
	}
	return body, nil
}

func mapErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict):
		return ErrNotFound
	case errors.Is(err, store.ErrClosed):
		return ErrClosed
	}
	return err
}

// VisitorSend stores a visitor's message, opening a conversation with the first one and handing it to the
// distribution engine. receivedAt is when the frame arrived, for metrics.
func (s *Service) VisitorSend(ctx context.Context, v Visitor, convID, clientMsgID, body string, receivedAt time.Time) (store.Appended, error) {
	return s.VisitorReply(ctx, v, convID, clientMsgID, body, "", receivedAt)
}

// VisitorReply is VisitorSend for a message that may answer a bot: quickReply is the id of the quick reply the
// visitor chose (its label is the body), or "". On a site with a bot, the first message starts the bot instead of
// routing the conversation, and while the bot is in charge every message goes to it.
func (s *Service) VisitorReply(ctx context.Context, v Visitor, convID, clientMsgID, body, quickReply string, receivedAt time.Time) (store.Appended, error) {
	body, err := s.checkBody(body)
	if err != nil {
		return store.Appended{}, err
	}
	if len(quickReply) > MaxQuickReplyID {
		return store.Appended{}, ErrBadQuickReply
	}
	data := ""
	if quickReply != "" {
		b, _ := json.Marshal(map[string]string{"quick_reply": quickReply})
		data = string(b)
	}
	return s.visitorMessage(ctx, v, store.VisitorMessage{ConversationID: convID, ClientMsgID: clientMsgID, Body: body, Data: data},
		quickReply, receivedAt)
}

// VisitorAnswer is VisitorSend for a message that answers a proactive invitation (invitationID): when it opens
// the conversation, the conversation starts with the invitation, so the agent sees what the visitor answered.
func (s *Service) VisitorAnswer(ctx context.Context, v Visitor, convID, clientMsgID, body, invitationID string, receivedAt time.Time) (store.Appended, error) {
	body, err := s.checkBody(body)
	if err != nil {
		return store.Appended{}, err
	}
	if len(invitationID) > MaxQuickReplyID {
		return store.Appended{}, ErrBadInvitation
	}
	return s.visitorMessage(ctx, v, store.VisitorMessage{ConversationID: convID, ClientMsgID: clientMsgID, Body: body,
		InvitationID: invitationID}, "", receivedAt)
}

// ErrBadInvitation is an invitation id that is too long.
var ErrBadInvitation = errors.New("chat: invitation id is too long")

// visitorMessage stores a visitor's message m (its text, or a file) and hands it on: to the desks, and to the
// site's bot or the distribution engine.
func (s *Service) visitorMessage(ctx context.Context, v Visitor, m store.VisitorMessage, quickReply string, receivedAt time.Time) (store.Appended, error) {
	m.SiteID, m.VisitorID, m.VisitorName, m.At = v.SiteID, v.ID, "Visitor", s.now()
	res, err := s.store.AppendVisitorMessage(ctx, m)
	if err != nil {
		return store.Appended{}, mapErr(err)
	}
	if res.Duplicate {
		return res, nil
	}
	s.metrics.Messages.WithLabelValues(store.AuthorVisitor).Inc()
	s.notify.Events(ctx, res.Conversation, res.Events, receivedAt)
	if s.bots != nil && s.bots.VisitorMessage(ctx, res.Conversation, res.Last(), res.Created, quickReply, v.Lang) {
		return res, nil
	}
	if res.Created {
		if err := s.router.Enqueue(ctx, res.Conversation); err != nil {
			// The message is stored; the conversation stays visible to the group, who can take it by hand.
			s.log.Error("enqueue conversation", slog.String("conversation_id", res.Conversation.ID), slog.Any("error", err))
			s.notify.Summary(ctx, res.Conversation.ID)
		}
	}
	return res, nil
}

// Open returns the visitor's open conversation on the site. When they have none and a bot answers the site, it
// opens one and starts the bot, so that the bot greets the visitor before they write. ok is false when there is no
// conversation to show: the visitor's first message will open one.
func (s *Service) Open(ctx context.Context, v Visitor) (c store.Conversation, ok bool, err error) {
	c, err = s.store.OpenConversation(ctx, v.SiteID, v.ID)
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Conversation{}, false, err
	}
	if s.bots == nil || !s.bots.Answers(ctx, v.SiteID) {
		return store.Conversation{}, false, nil
	}
	c, created, err := s.store.OpenOrCreateConversation(ctx, v.SiteID, v.ID, s.now())
	if err != nil {
		return store.Conversation{}, false, err
	}
	if created && !s.bots.Opened(ctx, c, v.Lang) {
		// The bot could not start: the agents answer, as on a site without a bot.
		if err := s.router.Enqueue(ctx, c); err != nil {
			s.log.Error("enqueue conversation", slog.String("conversation_id", c.ID), slog.Any("error", err))
			s.notify.Summary(ctx, c.ID)
		}
	}
	return c, true, nil
}

// AgentSend stores an agent's reply to a conversation assigned to them.
func (s *Service) AgentSend(ctx context.Context, a Agent, convID, clientMsgID, body string, receivedAt time.Time) (store.Appended, error) {
	body, err := s.checkBody(body)
	if err != nil {
		return store.Appended{}, err
	}
	return s.agentMessage(ctx, a, store.AgentMessage{ConversationID: convID, ClientMsgID: clientMsgID, Body: body}, receivedAt)
}

// agentMessage stores an agent's message m (its text, or a file) and tells both sides.
func (s *Service) agentMessage(ctx context.Context, a Agent, m store.AgentMessage, receivedAt time.Time) (store.Appended, error) {
	if m.ConversationID == "" {
		return store.Appended{}, ErrNotFound
	}
	m.AgentID, m.AgentName, m.At = a.ID, a.Name, s.now()
	res, err := s.store.AppendAgentMessage(ctx, m)
	if err != nil {
		return store.Appended{}, mapErr(err)
	}
	if res.Duplicate {
		return res, nil
	}
	s.metrics.Messages.WithLabelValues(store.AuthorAgent).Inc()
	s.notify.Events(ctx, res.Conversation, res.Events, receivedAt)
	return res, nil
}

// AddNote stores an agent's note on a conversation they can see (their own, or one waiting in their groups) and
// tells the desks. The visitor never sees notes. A note sent again with the same clientNoteID is stored once:
// duplicate is then true, and nobody is told again.
func (s *Service) AddNote(ctx context.Context, a Agent, convID, clientNoteID, body string) (n store.Note, duplicate bool, err error) {
	body, err = s.checkBody(body)
	if err != nil {
		return store.Note{}, false, err
	}
	if convID == "" {
		return store.Note{}, false, ErrNotFound
	}
	n, c, duplicate, err := s.store.AddNote(ctx, convID, a.ID, a.Name, clientNoteID, body, s.now())
	if err != nil {
		return store.Note{}, false, mapErr(err)
	}
	if !duplicate {
		s.notify.Note(ctx, c, n)
	}
	return n, duplicate, nil
}

// End closes a conversation for good; the visitor's next message opens a new one.
func (s *Service) End(ctx context.Context, a Agent, convID string) (store.Appended, error) {
	res, err := s.store.EndConversation(ctx, convID, a.ID, a.Name, s.now())
	if err != nil {
		return store.Appended{}, mapErr(err)
	}
	s.notify.Events(ctx, res.Conversation, res.Events, time.Time{})
	s.router.Ended(ctx, convID)
	s.notify.Summary(ctx, convID)
	return res, nil
}

// CloseInactive closes the conversations with nothing said for after, as of now (no call under way, nobody
// waiting in a queue for them), so that a chat its visitor walked away from doesn't hold an agent's slot for good.
// Each gets an "ended" event that says why, which the visitor and the agent see. It returns how many it closed.
func (s *Service) CloseInactive(ctx context.Context, after time.Duration) (int, error) {
	now := s.now()
	before := now.Add(-after)
	ids, err := s.store.InactiveConversations(ctx, before, 200)
	if err != nil {
		return 0, err
	}
	closed := 0
	for _, id := range ids {
		res, err := s.store.CloseInactive(ctx, id, before, now)
		if errors.Is(err, store.ErrClosed) {
			continue // closed meanwhile, or somebody spoke
		}
		if err != nil {
			return closed, err
		}
		closed++
		s.notify.Events(ctx, res.Conversation, res.Events, time.Time{})
		s.router.Ended(ctx, id)
		s.notify.Summary(ctx, id)
	}
	return closed, nil
}

// RunInactivity closes inactive conversations (CloseInactive) until ctx ends, looking a few times per after; after
// 0 closes nothing.
func (s *Service) RunInactivity(ctx context.Context, after time.Duration) {
	if after <= 0 {
		return
	}
	t := time.NewTicker(min(max(after/4, time.Second), time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.CloseInactive(ctx, after); err != nil {
				s.log.Warn("close inactive conversations", slog.Any("error", err))
			} else if n > 0 {
				s.log.Info("closed inactive conversations", slog.Int("count", n), slog.Duration("after", after))
			}
		}
	}
}

// Limits on the page a visitor reports.
const (
	MaxPageURL   = 2048 // bytes
	MaxPageTitle = 200  // characters; a longer title is cut
)

// ErrBadPage is a page address that is not an http(s) URL of one of the site's allowed origins, or is too long.
var ErrBadPage = errors.New("chat: the page is not an http(s) address of one of the site's allowed origins")

// VisitorPage records the page of the site the visitor is on, in their open conversation, and shows it on the desks.
// Only an address on one of the site's allowed origins is taken: agents may open it, so it must be the company's.
func (s *Service) VisitorPage(ctx context.Context, v Visitor, convID, pageURL, title string) error {
	u, err := url.Parse(pageURL)
	if err != nil || len(pageURL) > MaxPageURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ErrBadPage
	}
	site, err := s.store.Site(ctx, v.SiteID)
	if err != nil {
		return err
	}
	origin := u.Scheme + "://" + u.Host
	if !slices.ContainsFunc(site.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) }) {
		return ErrBadPage
	}
	title = strings.Join(strings.FieldsFunc(title, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if utf8.RuneCountInString(title) > MaxPageTitle {
		title = string([]rune(title)[:MaxPageTitle-1]) + "…"
	}
	if err := s.store.SetVisitorPage(ctx, convID, v.ID, u.String(), title); err != nil {
		return mapErr(err)
	}
	s.notify.Summary(ctx, convID)
	return nil
}

// ErrBadIdentity refuses an identity whose e-mail address, name or signature is not right.
var ErrBadIdentity = errors.New("chat: the identity's e-mail address, name or hash is not valid")

// MaxIdentityName is the longest name a website may give a visitor, in characters.
const MaxIdentityName = 100

// Identify keeps who the website says the visitor is: a signed-in customer's e-mail address and name, with hash,
// the hex HMAC-SHA256 of the address under the site's identity secret. Only a matching signature is taken (a
// visitor can't claim someone else's address); the agents then see the name and address with the visitor's
// conversations.
func (s *Service) Identify(ctx context.Context, v Visitor, name, email, hash string) error {
	name = strings.Join(strings.Fields(name), " ")
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || utf8.RuneCountInString(name) > MaxIdentityName || len(email) > 254 {
		return ErrBadIdentity
	}
	secret, err := s.store.IdentitySecret(ctx, v.SiteID)
	if err != nil {
		return err
	}
	want, _ := hex.DecodeString(SignIdentity(secret, email))
	given, err := hex.DecodeString(hash)
	if err != nil || !hmac.Equal(given, want) {
		return ErrBadIdentity
	}
	if err := s.store.SetVisitorIdentity(ctx, v.SiteID, v.ID, name, email, s.now()); err != nil {
		return err
	}
	if c, err := s.store.OpenConversationOf(ctx, v.SiteID, v.ID); err == nil {
		s.notify.Summary(ctx, c.ID)
	}
	return nil
}

// SignIdentity is the hash a site gives with a visitor's e-mail address (the site's backend computes the same).
func SignIdentity(secret, email string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(email))
	return hex.EncodeToString(mac.Sum(nil))
}

// MaxRatingComment is the longest comment a visitor may leave with a rating, in characters.
const MaxRatingComment = 1000

// Errors of a rating.
var (
	ErrBadRating  = errors.New("chat: the score must be a whole number from 1 to 5, the comment at most 1000 characters")
	ErrRated      = errors.New("chat: the conversation is already rated")
	ErrNotRatable = errors.New("chat: the conversation has not ended, or ended over 7 days ago")
)

// Rate keeps the visitor's rating of their conversation after it ended (store.RateConversation), and tells the
// desks: the agent sees it with the conversation.
func (s *Service) Rate(ctx context.Context, v Visitor, convID string, score int, comment string) (store.Rating, error) {
	comment = strings.TrimSpace(comment)
	if score < 1 || score > 5 || utf8.RuneCountInString(comment) > MaxRatingComment {
		return store.Rating{}, ErrBadRating
	}
	c, err := s.store.Conversation(ctx, convID)
	if err != nil || c.SiteID != v.SiteID {
		return store.Rating{}, ErrNotFound
	}
	r, err := s.store.RateConversation(ctx, convID, v.ID, score, comment, s.now())
	switch {
	case errors.Is(err, store.ErrRated):
		return store.Rating{}, ErrRated
	case errors.Is(err, store.ErrNotRatable):
		return store.Rating{}, ErrNotRatable
	case err != nil:
		return store.Rating{}, mapErr(err)
	}
	s.notify.Summary(ctx, convID)
	return r, nil
}

// VisitorTyping tells the conversation's agent that the visitor is typing. Only the visitor's own open
// conversation is accepted.
func (s *Service) VisitorTyping(ctx context.Context, v Visitor, convID string, typing bool) error {
	c, err := s.store.Conversation(ctx, convID)
	if err != nil || c.VisitorID != v.ID || c.SiteID != v.SiteID {
		return ErrNotFound
	}
	s.notify.Typing(ctx, notify.SiteSubject(c.SiteID), c.AgentID, notify.TypingView{ConversationID: convID, Author: store.AuthorVisitor, Typing: typing})
	return nil
}

// VisitorRead notes that the visitor has seen their conversation up to seq, and tells its agent's desks (read
// receipts: "Seen").
func (s *Service) VisitorRead(ctx context.Context, v Visitor, convID string, seq int64) error {
	c, changed, err := s.store.MarkVisitorRead(ctx, convID, v.SiteID, v.ID, seq)
	if err != nil {
		return mapErr(err)
	}
	if changed {
		s.notify.Read(ctx, notify.SiteSubject(c.SiteID), c.AgentID, notify.ReadView{ConversationID: c.ID, Reader: store.ReaderVisitor, Seq: seq})
	}
	return nil
}

// AgentRead notes that the conversation's agent has seen it up to seq, and tells the visitor.
func (s *Service) AgentRead(ctx context.Context, a Agent, convID string, seq int64) error {
	c, changed, err := s.store.MarkAgentRead(ctx, convID, a.ID, seq)
	if err != nil {
		return mapErr(err)
	}
	if changed {
		s.notify.Read(ctx, notify.VisitorSubject(c.VisitorID), c.AgentID, notify.ReadView{ConversationID: c.ID, Reader: store.ReaderAgent, Seq: seq})
	}
	return nil
}

// AgentTyping tells the visitor that the agent is typing.
func (s *Service) AgentTyping(ctx context.Context, a Agent, convID string, typing bool) error {
	c, err := s.store.Conversation(ctx, convID)
	if err != nil || c.AgentID != a.ID {
		return ErrNotFound
	}
	s.notify.Typing(ctx, notify.VisitorSubject(c.VisitorID), c.AgentID, notify.TypingView{ConversationID: convID, Author: store.AuthorAgent, Typing: typing})
	return nil
}
