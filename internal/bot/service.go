// Package bot runs the bots that answer a site's visitors before its agents do: the built-in scenario bot, and
// external bots that get visitors' messages by webhook and answer through the bot API. While a bot is in charge, a
// conversation is not routed to the agents. The bot hands over with a transfer card; the conversation then enters
// the distribution engine, and when the card carries one of the configured phrases, it moves to video as soon as an
// agent takes it. The package is plain Go with an injected clock: the webhook transport is behind Webhooks.
package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/store"
)

// Errors the bot API maps to HTTP answers.
var (
	ErrNotFound    = errors.New("bot: conversation not found, or not this bot's")
	ErrNotInCharge = errors.New("bot: the bot is no longer in charge of the conversation")
	ErrClosed      = errors.New("bot: conversation is closed")
)

// InputError is a bot API request with a bad field.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// Router is the distribution engine, as the bots use it.
type Router interface {
	// Enqueue asks for an agent for a conversation's chat.
	Enqueue(ctx context.Context, c store.Conversation) error
}

// Video moves a conversation to video when it gets an agent (internal/call).
type Video interface {
	// VideoOnAssign asks that, as soon as an agent takes the conversation's chat, a video call starts with that
	// agent and the visitor goes straight to the lobby.
	VideoOnAssign(ctx context.Context, convID string) error
}

// Delivery is one webhook to post to an HTTP bot.
type Delivery struct {
	ID     string // the delivery's id, the same on every attempt
	URL    string
	Secret string // signs the body (internal/webhook)
	Body   []byte
	// GiveUp is called once when the delivery failed for good.
	GiveUp func()
	// Outcome, when set, is told once how the delivery ended: nil when the receiver took it, else the last error.
	Outcome func(err error)
}

// Webhooks posts signed webhooks without blocking the caller.
type Webhooks interface {
	// Send queues a delivery and returns at once; it reports false when it can't take it (the queue is full).
	Send(d Delivery) bool
}

// Deps are what the bot service needs.
type Deps struct {
	Store    *store.Store
	Notifier *notify.Notifier
	Router   Router
	// Video may be nil: handovers then stay chats.
	Video    Video
	Webhooks Webhooks
	// VideoPhrases are the phrases that, in a transfer card, move the conversation to video.
	VideoPhrases []string
	// MaxMessage is the longest message an HTTP bot may post, in characters.
	MaxMessage int
	Now        func() time.Time
	Log        *slog.Logger
}

// Service runs bots in conversations. It is the chat service's Bots.
type Service struct {
	store      *store.Store
	notify     *notify.Notifier
	router     Router
	video      Video
	webhooks   Webhooks
	phrases    Phrases
	maxMessage int
	now        func() time.Time
	log        *slog.Logger
}

var _ chat.Bots = (*Service)(nil)

// New builds the bot service.
func New(d Deps) *Service {
	return &Service{store: d.Store, notify: d.Notifier, router: d.Router, video: d.Video, webhooks: d.Webhooks,
		phrases: NewPhrases(d.VideoPhrases), maxMessage: d.MaxMessage, now: d.Now, log: d.Log}
}

// MovesToVideo reports whether a transfer card's text carries one of the configured phrases.
func (s *Service) MovesToVideo(card string) bool { return s.phrases.Match(card) }

// Answers reports whether a bot answers the site's visitors first.
func (s *Service) Answers(ctx context.Context, siteID string) bool {
	_, err := s.store.SiteBot(ctx, siteID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("site bot", slog.String("site_id", siteID), slog.Any("error", err))
	}
	return err == nil
}

// Opened starts the site's bot in a conversation the widget just opened, before the visitor wrote anything: the
// bot greets them. It reports whether a bot took the conversation.
func (s *Service) Opened(ctx context.Context, c store.Conversation, lang string) bool {
	return s.start(ctx, c, lang, nil, "")
}

// VisitorMessage hands a visitor's stored message to the conversation's bot. created says the message opened the
// conversation: the site's bot, if any, then starts and greets. quickReply is the id of the quick reply the visitor
// chose, if they chose one. It reports whether a bot is in charge: the chat service then doesn't route the
// conversation. It never blocks on an external bot.
func (s *Service) VisitorMessage(ctx context.Context, c store.Conversation, e store.Event, created bool, quickReply, lang string) bool {
	if created {
		return s.start(ctx, c, lang, &e, quickReply)
	}
	cb, err := s.store.ConversationBot(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		s.log.Error("conversation bot", slog.String("conversation_id", c.ID), slog.Any("error", err))
		return false
	}
	if !cb.Active {
		return false
	}
	if c.AgentID != "" {
		// An agent took the conversation by hand: the bot steps back.
		if err := s.store.StopConversationBot(ctx, c.ID, s.now()); err != nil {
			s.log.Error("stop bot", slog.String("conversation_id", c.ID), slog.Any("error", err))
		}
		return false
	}
	b, err := s.store.Bot(ctx, cb.BotID)
	if err != nil {
		s.log.Error("conversation bot", slog.String("conversation_id", c.ID), slog.Any("error", err))
		s.handover(ctx, cb.BotID, "", c.ID, "")
		return true
	}
	s.respond(ctx, b, c, cb, &e, quickReply)
	return true
}

// start puts the site's bot in charge of a new conversation and lets it speak first. first is the visitor's first
// message, or nil when the widget opened the conversation. It reports whether a bot is in charge. When anything
// fails, the conversation goes to the agents as it would without a bot.
func (s *Service) start(ctx context.Context, c store.Conversation, lang string, first *store.Event, quickReply string) bool {
	b, err := s.store.SiteBot(ctx, c.SiteID)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		s.log.Error("site bot", slog.String("site_id", c.SiteID), slog.Any("error", err))
		return false
	}
	if lang == "" {
		if site, err := s.store.Site(ctx, c.SiteID); err == nil {
			lang = site.Language
		}
	}
	cb, created, err := s.store.StartConversationBot(ctx, c.ID, b.ID, lang, s.now())
	if err != nil {
		s.log.Error("start bot", slog.String("conversation_id", c.ID), slog.Any("error", err))
		return false
	}
	if !created {
		return cb.Active // another tab of the visitor started it
	}
	s.notify.Summary(ctx, c.ID)
	s.respond(ctx, b, c, cb, first, quickReply)
	return true
}

// respond lets the bot answer: the scenario bot plays its next turn, an HTTP bot gets a webhook.
func (s *Service) respond(ctx context.Context, b store.Bot, c store.Conversation, cb store.ConversationBot, e *store.Event, quickReply string) {
	switch b.Kind {
	case store.BotScenario:
		sc, err := ParseScenario(b.Scenario)
		if err != nil {
			s.log.Error("bot scenario", slog.String("bot_id", b.ID), slog.Any("error", err))
			s.handover(ctx, b.ID, b.Name, c.ID, "")
			return
		}
		var turn Turn
		switch {
		case cb.Step == "":
			turn = sc.Begin(cb.Language)
		case e != nil:
			turn = sc.Answer(cb.Step, quickReply, e.Body, cb.Language)
		default:
			return
		}
		s.play(ctx, b, c, turn)
	case store.BotHTTP:
		s.deliver(b, c, cb, e, quickReply)
	default:
		s.log.Error("unknown bot kind", slog.String("bot_id", b.ID), slog.String("kind", b.Kind))
		s.handover(ctx, b.ID, b.Name, c.ID, "")
	}
}

// play stores a scenario turn and hands over when it ends with a transfer.
func (s *Service) play(ctx context.Context, b store.Bot, c store.Conversation, turn Turn) {
	if turn.Transfer && (len(turn.Replies) == 0 || !turn.Replies[len(turn.Replies)-1].Transfer) {
		s.handover(ctx, b.ID, b.Name, c.ID, "") // a broken scenario: a person takes over
		return
	}
	msgs := make([]store.BotMessage, 0, len(turn.Replies))
	video := false
	for _, r := range turn.Replies {
		m := store.BotMessage{Body: r.Body}
		switch {
		case r.Transfer:
			video = s.MovesToVideo(r.Body)
			m.Data = transferData(video)
		case len(r.QuickReplies) > 0:
			m.Data = quickRepliesData(r.QuickReplies)
		}
		msgs = append(msgs, m)
	}
	res, err := s.store.AppendBotTurn(ctx, store.BotTurn{ConversationID: c.ID, BotID: b.ID, BotName: b.Name, Messages: msgs,
		Step: turn.Step, Transfer: turn.Transfer, At: s.now()})
	if err != nil {
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrClosed) {
			s.log.Error("bot turn", slog.String("conversation_id", c.ID), slog.Any("error", err))
		}
		return
	}
	s.notify.Events(ctx, res.Conversation, res.Events, time.Time{})
	if turn.Transfer {
		s.routeToAgents(ctx, res.Conversation, video)
	}
}

// handover takes the bot out of a conversation and routes it to the agents, with the transfer card when card is
// not empty. It is how a failing bot gives way to people.
func (s *Service) handover(ctx context.Context, botID, botName, convID, card string) {
	var msgs []store.BotMessage
	video := false
	if card != "" {
		video = s.MovesToVideo(card)
		msgs = []store.BotMessage{{Body: card, Data: transferData(video)}}
	}
	res, err := s.store.AppendBotTurn(ctx, store.BotTurn{ConversationID: convID, BotID: botID, BotName: botName, Messages: msgs,
		Transfer: true, At: s.now()})
	if err != nil {
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrClosed) {
			s.log.Error("bot handover", slog.String("conversation_id", convID), slog.Any("error", err))
		}
		return
	}
	s.notify.Events(ctx, res.Conversation, res.Events, time.Time{})
	s.routeToAgents(ctx, res.Conversation, video)
}

// routeToAgents hands a conversation the bot let go of to the distribution engine. When the transfer card asked
// for video, the call service learns it first, so that it is ready however fast an agent takes the chat.
func (s *Service) routeToAgents(ctx context.Context, c store.Conversation, video bool) {
	if video {
		if s.video == nil {
			s.log.Warn("a bot asked for video, but no call service is wired", slog.String("conversation_id", c.ID))
		} else if err := s.video.VideoOnAssign(ctx, c.ID); err != nil {
			s.log.Error("video on assign", slog.String("conversation_id", c.ID), slog.Any("error", err))
		}
	}
	if err := s.router.Enqueue(ctx, c); err != nil {
		// The conversation stays visible to the group, who can take it by hand.
		s.log.Error("enqueue conversation", slog.String("conversation_id", c.ID), slog.Any("error", err))
	}
	s.notify.Summary(ctx, c.ID)
}

func transferData(video bool) string {
	b, _ := json.Marshal(map[string]bool{"transfer": true, "video": video})
	return string(b)
}

func quickRepliesData(qrs []Choice) string {
	b, _ := json.Marshal(map[string][]Choice{"quick_replies": qrs})
	return string(b)
}

// Webhook is the body of a webhook (docs/api.md, "HTTP bots").
type Webhook struct {
	// Type is "conversation.opened" (the widget opened a conversation; the bot may greet) or "message".
	Type           string          `json:"type"`
	DeliveryID     string          `json:"delivery_id"`
	BotID          string          `json:"bot_id"`
	ConversationID string          `json:"conversation_id"`
	SiteID         string          `json:"site_id"`
	VisitorID      string          `json:"visitor_id"`
	Language       string          `json:"language"`
	Message        *WebhookMessage `json:"message,omitempty"`
}

// WebhookMessage is the visitor's message a webhook carries.
type WebhookMessage struct {
	Seq        int64  `json:"seq"`
	Body       string `json:"body"`
	QuickReply string `json:"quick_reply,omitempty"`
	CreatedAt  int64  `json:"created_at"`
}

// Webhook types.
const (
	// HookOpened: the widget opened a conversation before the visitor wrote; the bot may greet them.
	HookOpened = "conversation.opened"
	// HookMessage: the visitor wrote, or chose a quick reply.
	HookMessage = "message"
)

// deliver queues a webhook to an HTTP bot. If it fails for good, the conversation goes to the agents.
func (s *Service) deliver(b store.Bot, c store.Conversation, cb store.ConversationBot, e *store.Event, quickReply string) {
	w := Webhook{Type: HookOpened, DeliveryID: store.NewID("wh"), BotID: b.ID, ConversationID: c.ID, SiteID: c.SiteID,
		VisitorID: c.VisitorID, Language: cb.Language}
	if e != nil {
		w.Type = HookMessage
		w.Message = &WebhookMessage{Seq: e.Seq, Body: e.Body, QuickReply: quickReply, CreatedAt: e.CreatedAt.UnixMilli()}
	}
	body, _ := json.Marshal(w)
	giveUp := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.log.Warn("bot webhook failed: the agents take over", slog.String("bot_id", b.ID), slog.String("conversation_id", c.ID))
		s.handover(ctx, b.ID, b.Name, c.ID, "")
	}
	if s.webhooks == nil || b.WebhookURL == "" || !s.webhooks.Send(Delivery{ID: w.DeliveryID, URL: b.WebhookURL, Secret: b.WebhookSecret, Body: body, GiveUp: giveUp}) {
		go giveUp()
	}
}

// Message is what an HTTP bot posts through the bot API.
type Message struct {
	Body         string
	QuickReplies []Choice
	ClientMsgID  string
}

var choiceID = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

func (s *Service) checkBody(body, field string) (string, error) {
	body = strings.TrimSpace(body)
	if body == "" {
		return "", &InputError{Field: field, Message: "is empty"}
	}
	if n := utf8.RuneCountInString(body); n > s.maxMessage {
		return "", &InputError{Field: field, Message: fmt.Sprintf("is too long: %d characters, at most %d", n, s.maxMessage)}
	}
	return body, nil
}

func checkClientMsgID(id string) error {
	if len(id) > 64 {
		return &InputError{Field: "client_msg_id", Message: "is longer than 64 characters"}
	}
	return nil
}

// Post stores an HTTP bot's message, with its quick replies, in a conversation the bot is in charge of.
func (s *Service) Post(ctx context.Context, b store.Bot, convID string, m Message) (store.Appended, error) {
	body, err := s.checkBody(m.Body, "body")
	if err != nil {
		return store.Appended{}, err
	}
	if err := checkClientMsgID(m.ClientMsgID); err != nil {
		return store.Appended{}, err
	}
	if len(m.QuickReplies) > MaxQuickReplies {
		return store.Appended{}, &InputError{Field: "quick_replies", Message: fmt.Sprintf("at most %d", MaxQuickReplies)}
	}
	seen := map[string]bool{}
	qrs := make([]Choice, 0, len(m.QuickReplies))
	for i, qr := range m.QuickReplies {
		field := fmt.Sprintf("quick_replies.%d", i)
		label := strings.TrimSpace(qr.Label)
		switch {
		case !choiceID.MatchString(qr.ID):
			return store.Appended{}, &InputError{Field: field + ".id", Message: "1 to 64 letters, digits, or . _ : -"}
		case seen[qr.ID]:
			return store.Appended{}, &InputError{Field: field + ".id", Message: "another quick reply has the same id"}
		case label == "" || utf8.RuneCountInString(label) > MaxLabelChars:
			return store.Appended{}, &InputError{Field: field + ".label", Message: fmt.Sprintf("1 to %d characters", MaxLabelChars)}
		}
		seen[qr.ID] = true
		qrs = append(qrs, Choice{ID: qr.ID, Label: label})
	}
	msg := store.BotMessage{Body: body, ClientMsgID: m.ClientMsgID}
	if len(qrs) > 0 {
		msg.Data = quickRepliesData(qrs)
	}
	res, err := s.store.AppendBotTurn(ctx, store.BotTurn{ConversationID: convID, BotID: b.ID, BotName: b.Name,
		Messages: []store.BotMessage{msg}, At: s.now()})
	if err != nil {
		return store.Appended{}, s.mapErr(err)
	}
	if !res.Duplicate {
		s.notify.Events(ctx, res.Conversation, res.Events, time.Time{})
	}
	return res, nil
}

// Transfer posts an HTTP bot's transfer card and hands the conversation over to the agents, by the same rules as
// the scenario bot: when the card carries one of the configured phrases, the conversation moves to video as soon as
// an agent takes it. video reports that.
func (s *Service) Transfer(ctx context.Context, b store.Bot, convID, card, clientMsgID string) (res store.Appended, video bool, err error) {
	card, err = s.checkBody(card, "body")
	if err != nil {
		return store.Appended{}, false, err
	}
	if err := checkClientMsgID(clientMsgID); err != nil {
		return store.Appended{}, false, err
	}
	video = s.MovesToVideo(card)
	res, err = s.store.AppendBotTurn(ctx, store.BotTurn{ConversationID: convID, BotID: b.ID, BotName: b.Name,
		Messages: []store.BotMessage{{Body: card, Data: transferData(video), ClientMsgID: clientMsgID}}, Transfer: true, At: s.now()})
	if err != nil {
		return store.Appended{}, false, s.mapErr(err)
	}
	if res.Duplicate {
		return res, video, nil
	}
	s.notify.Events(ctx, res.Conversation, res.Events, time.Time{})
	s.routeToAgents(ctx, res.Conversation, video)
	return res, video, nil
}

func (s *Service) mapErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return ErrNotInCharge
	case errors.Is(err, store.ErrClosed):
		return ErrClosed
	}
	return err
}

// NewToken makes an HTTP bot's API token, and the hash that is stored.
func NewToken() (token, hash string) {
	token = "pbt_" + auth.RandomString(32)
	return token, TokenHash(token)
}

// TokenHash is the stored form of an API token: its SHA-256, in hex.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewSecret makes an HTTP bot's webhook secret.
func NewSecret() string { return "whsec_" + auth.RandomString(32) }

// BotByToken finds the HTTP bot an API token belongs to; ErrNotFound when none.
func (s *Service) BotByToken(ctx context.Context, token string) (store.Bot, error) {
	if token == "" || len(token) > 200 {
		return store.Bot{}, ErrNotFound
	}
	b, err := s.store.BotByTokenHash(ctx, TokenHash(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && b.Kind != store.BotHTTP) {
		return store.Bot{}, ErrNotFound
	}
	return b, err
}
