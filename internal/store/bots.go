package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Bot kinds.
const (
	// BotScenario is the built-in scenario bot: Parley runs its steps.
	BotScenario = "scenario"
	// BotHTTP is an external bot: Parley posts visitors' messages to its webhook, and it answers through the bot API.
	BotHTTP = "http"
)

// Bot answers a site's visitors before its agents do.
type Bot struct {
	ID   string
	Name string
	Kind string // BotScenario or BotHTTP
	// Scenario is a scenario bot's steps, as JSON (internal/bot.Scenario).
	Scenario string
	// WebhookURL and WebhookSecret are an HTTP bot's webhook and the key of its HMAC signature.
	WebhookURL    string
	WebhookSecret string
	// TokenHash is the SHA-256 (hex) of an HTTP bot's API token; "" for a scenario bot.
	TokenHash string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const botCols = "id, name, kind, scenario, webhook_url, webhook_secret, token_hash, created_at, updated_at"

func scanBot(sc interface{ Scan(...any) error }) (Bot, error) {
	var b Bot
	var token sql.NullString
	var created, updated int64
	if err := sc.Scan(&b.ID, &b.Name, &b.Kind, &b.Scenario, &b.WebhookURL, &b.WebhookSecret, &token, &created, &updated); err != nil {
		return Bot{}, notFound(err)
	}
	b.TokenHash = token.String
	b.CreatedAt, b.UpdatedAt = fromMS(created), fromMS(updated)
	return b, nil
}

// CreateBot stores a bot; its ID is generated when empty. A taken name is ErrConflict.
func (s *Store) CreateBot(ctx context.Context, b Bot) (Bot, error) {
	if b.ID == "" {
		b.ID = NewID("bt")
	}
	now := time.Now()
	b.CreatedAt, b.UpdatedAt = now, now
	_, err := s.q().exec(ctx, "INSERT INTO bots ("+botCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		b.ID, b.Name, b.Kind, b.Scenario, b.WebhookURL, b.WebhookSecret, nullable(b.TokenHash), ms(now), ms(now))
	if isUnique(err) {
		return Bot{}, fmt.Errorf("bot %q: %w", b.Name, ErrConflict)
	}
	if err != nil {
		return Bot{}, fmt.Errorf("store: create bot: %w", err)
	}
	return b, nil
}

// UpdateBot saves a bot's name, scenario and webhook URL. Its kind, secret and token stay (SetBotCredentials
// changes those).
func (s *Store) UpdateBot(ctx context.Context, b Bot) (Bot, error) {
	b.UpdatedAt = time.Now()
	res, err := s.q().exec(ctx, "UPDATE bots SET name = ?, scenario = ?, webhook_url = ?, updated_at = ? WHERE id = ?",
		b.Name, b.Scenario, b.WebhookURL, ms(b.UpdatedAt), b.ID)
	if isUnique(err) {
		return Bot{}, fmt.Errorf("bot %q: %w", b.Name, ErrConflict)
	}
	if err != nil {
		return Bot{}, fmt.Errorf("store: update bot: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Bot{}, ErrNotFound
	}
	return s.Bot(ctx, b.ID)
}

// SetBotCredentials replaces an HTTP bot's webhook secret and API token hash.
func (s *Store) SetBotCredentials(ctx context.Context, id, secret, tokenHash string) error {
	res, err := s.q().exec(ctx, "UPDATE bots SET webhook_secret = ?, token_hash = ?, updated_at = ? WHERE id = ?",
		secret, nullable(tokenHash), ms(time.Now()), id)
	if err != nil {
		return fmt.Errorf("store: bot credentials: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Bot returns a bot by id.
func (s *Store) Bot(ctx context.Context, id string) (Bot, error) {
	return scanBot(s.q().row(ctx, "SELECT "+botCols+" FROM bots WHERE id = ?", id))
}

// BotByTokenHash returns the HTTP bot whose API token hashes to hash.
func (s *Store) BotByTokenHash(ctx context.Context, hash string) (Bot, error) {
	if hash == "" {
		return Bot{}, ErrNotFound
	}
	return scanBot(s.q().row(ctx, "SELECT "+botCols+" FROM bots WHERE token_hash = ?", hash))
}

// BotByName returns a bot by its name.
func (s *Store) BotByName(ctx context.Context, name string) (Bot, error) {
	return scanBot(s.q().row(ctx, "SELECT "+botCols+" FROM bots WHERE name = ?", name))
}

// Bots lists every bot by name.
func (s *Store) Bots(ctx context.Context) ([]Bot, error) {
	rows, err := s.q().query(ctx, "SELECT "+botCols+" FROM bots ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: bots: %w", err)
	}
	out, err := scanAll(rows, nil, scanBot)
	if out == nil && err == nil {
		out = []Bot{} // an empty list, not null, in the admin API
	}
	return out, err
}

// DeleteBot removes a bot. A bot that a site uses, or that is in charge of an open conversation, is ErrConflict:
// detach it from its sites first, and let its conversations reach the agents.
func (s *Store) DeleteBot(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx q) error {
		var n int
		if err := tx.row(ctx, `SELECT (SELECT COUNT(*) FROM sites WHERE bot_id = ?) +
			(SELECT COUNT(*) FROM conversation_bots cb JOIN conversations c ON c.id = cb.conversation_id
			 WHERE cb.bot_id = ? AND cb.active AND c.status = 'open' AND c.agent_id IS NULL)`, id, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("bot in use: %w", ErrConflict)
		}
		res, err := tx.exec(ctx, "DELETE FROM bots WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// SetSiteBot makes a bot answer a site's visitors first; botID "" detaches the site's bot. An unknown site or bot
// is ErrNotFound.
func (s *Store) SetSiteBot(ctx context.Context, siteID, botID string) error {
	return s.inTx(ctx, func(tx q) error {
		if botID != "" {
			var n int
			if err := tx.row(ctx, "SELECT COUNT(*) FROM bots WHERE id = ?", botID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("bot %s: %w", botID, ErrNotFound)
			}
		}
		res, err := tx.exec(ctx, "UPDATE sites SET bot_id = ?, updated_at = ? WHERE id = ?", nullable(botID), ms(time.Now()), siteID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("site %s: %w", siteID, ErrNotFound)
		}
		return nil
	})
}

// SiteBot returns the bot that answers a site first; ErrNotFound when the site has none.
func (s *Store) SiteBot(ctx context.Context, siteID string) (Bot, error) {
	return scanBot(s.q().row(ctx, "SELECT b.id, b.name, b.kind, b.scenario, b.webhook_url, b.webhook_secret, b.token_hash, "+
		"b.created_at, b.updated_at FROM bots b JOIN sites st ON st.bot_id = b.id WHERE st.id = ?", siteID))
}

// SiteBots maps each site id to its bot's id, for the sites that have one.
func (s *Store) SiteBots(ctx context.Context) (map[string]string, error) {
	rows, err := s.q().query(ctx, "SELECT id, bot_id FROM sites WHERE bot_id IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("store: site bots: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var site, bot string
		if err := rows.Scan(&site, &bot); err != nil {
			return nil, err
		}
		out[site] = bot
	}
	return out, rows.Err()
}

// ConversationBot is a bot's part in one conversation.
type ConversationBot struct {
	ConversationID string
	BotID          string
	// Active is true while the bot is in charge: the conversation is not routed to the agents.
	Active bool
	// Step is the scenario's current step ("" before the first one).
	Step string
	// Language is the visitor's language, for the bot's texts ("en", "fr" or "").
	Language  string
	StartedAt time.Time
	UpdatedAt time.Time
	EndedAt   time.Time // zero while the bot is in charge
}

const convBotCols = "conversation_id, bot_id, active, step, language, started_at, updated_at, ended_at"

func scanConvBot(sc interface{ Scan(...any) error }) (ConversationBot, error) {
	var b ConversationBot
	var started, updated, ended int64
	if err := sc.Scan(&b.ConversationID, &b.BotID, &b.Active, &b.Step, &b.Language, &started, &updated, &ended); err != nil {
		return ConversationBot{}, notFound(err)
	}
	b.StartedAt, b.UpdatedAt = fromMS(started), fromMS(updated)
	if ended > 0 {
		b.EndedAt = fromMS(ended)
	}
	return b, nil
}

// StartConversationBot puts a bot in charge of a conversation that has no agent, and marks the conversation's
// routing "bot" (the desk shows it as with the bot). created is false when the conversation already had a bot:
// the row is then left as it is. A conversation that is closed or has an agent is ErrConflict.
func (s *Store) StartConversationBot(ctx context.Context, convID, botID, language string, at time.Time) (cb ConversationBot, created bool, err error) {
	err = s.inTx(ctx, func(tx q) error {
		created = false
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?"+s.forUpdate(false), convID))
		if err != nil {
			return err
		}
		cb, err = scanConvBot(tx.row(ctx, "SELECT "+convBotCols+" FROM conversation_bots WHERE conversation_id = ?", convID))
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if c.Status != StatusOpen || c.AgentID != "" {
			return fmt.Errorf("conversation %s is closed or has an agent: %w", convID, ErrConflict)
		}
		cb = ConversationBot{ConversationID: convID, BotID: botID, Active: true, Language: language, StartedAt: at, UpdatedAt: at}
		if _, err := tx.exec(ctx, "INSERT INTO conversation_bots ("+convBotCols+") VALUES (?, ?, ?, '', ?, ?, ?, 0)",
			convID, botID, true, language, ms(at), ms(at)); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE conversations SET routing = ? WHERE id = ?", RoutingBot, convID); err != nil {
			return err
		}
		created = true
		return nil
	})
	return cb, created, err
}

// RoutingBot is a conversation's routing state while a bot is in charge of it (the other states are the requests'
// states: queued, offered, assigned, ...).
const RoutingBot = "bot"

// ConversationBot returns a conversation's bot state; ErrNotFound when no bot answered it.
func (s *Store) ConversationBot(ctx context.Context, convID string) (ConversationBot, error) {
	return scanConvBot(s.q().row(ctx, "SELECT "+convBotCols+" FROM conversation_bots WHERE conversation_id = ?", convID))
}

// StopConversationBot takes the bot out of a conversation (an agent took it, or the bot gave up). It is a no-op
// when the bot was not in charge any more.
func (s *Store) StopConversationBot(ctx context.Context, convID string, at time.Time) error {
	_, err := s.q().exec(ctx, "UPDATE conversation_bots SET active = ?, updated_at = ?, ended_at = ? WHERE conversation_id = ? AND active",
		false, ms(at), ms(at), convID)
	if err != nil {
		return fmt.Errorf("store: stop conversation bot: %w", err)
	}
	return nil
}

// BotMessage is one message a bot posts.
type BotMessage struct {
	Body string
	// Data is the event's structured details as JSON: quick replies, or the transfer card's marks.
	Data string
	// ClientMsgID makes the post idempotent: the same id from the same bot is stored once.
	ClientMsgID string
}

// BotTurn is what a bot says in one go, and where it leaves the conversation.
type BotTurn struct {
	ConversationID string
	BotID          string
	BotName        string
	Messages       []BotMessage
	// Step is the scenario's step after this turn; "" leaves it as it is.
	Step string
	// Transfer makes the bot hand over after its messages (the last one is the transfer card): it is no longer in
	// charge, and the caller routes the conversation to the agents.
	Transfer bool
	At       time.Time
}

// AppendBotTurn stores a bot's messages in one transaction, while the bot is in charge: the conversation is open
// (else ErrClosed), has no agent and the bot is active in it (else ErrConflict), and it is this bot's (else
// ErrNotFound). A single message whose ClientMsgID was already stored is a duplicate: nothing new is written.
func (s *Store) AppendBotTurn(ctx context.Context, t BotTurn) (Appended, error) {
	var out Appended
	err := s.inTx(ctx, func(tx q) error {
		out = Appended{}
		if len(t.Messages) == 1 && t.Messages[0].ClientMsgID != "" {
			if e, c, dup, err := duplicate(ctx, tx, t.BotID, t.Messages[0].ClientMsgID); err != nil || dup {
				if dup && c.ID != t.ConversationID {
					return fmt.Errorf("client_msg_id reused in another conversation: %w", ErrConflict)
				}
				out = Appended{Conversation: c, Events: []Event{e}, Duplicate: dup}
				return err
			}
		}
		// Lock the conversation first, as a claim by an agent does, so that a bot never talks after an agent took it.
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?"+s.forUpdate(false), t.ConversationID))
		if err != nil {
			return err
		}
		cb, err := scanConvBot(tx.row(ctx, "SELECT "+convBotCols+" FROM conversation_bots WHERE conversation_id = ?", t.ConversationID))
		if errors.Is(err, ErrNotFound) || (err == nil && cb.BotID != t.BotID) {
			return fmt.Errorf("conversation %s is not this bot's: %w", t.ConversationID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if c.Status != StatusOpen {
			return ErrClosed
		}
		if !cb.Active || c.AgentID != "" {
			return fmt.Errorf("the bot is not in charge of %s: %w", t.ConversationID, ErrConflict)
		}
		for _, m := range t.Messages {
			e := Event{ConversationID: c.ID, Type: EventMessage, Author: AuthorBot, AuthorID: t.BotID, AuthorName: t.BotName,
				Body: m.Body, ClientMsgID: m.ClientMsgID, CreatedAt: t.At, Data: m.Data}
			if err := appendEvent(ctx, tx, &e); err != nil {
				return err
			}
			c.LastSeq, c.UpdatedAt = e.Seq, t.At
			out.Events = append(out.Events, e)
		}
		step := cb.Step
		if t.Step != "" {
			step = t.Step
		}
		ended := int64(0)
		if t.Transfer {
			ended = ms(t.At)
		}
		if _, err := tx.exec(ctx, "UPDATE conversation_bots SET step = ?, active = ?, updated_at = ?, ended_at = ? WHERE conversation_id = ?",
			step, !t.Transfer, ms(t.At), ended, c.ID); err != nil {
			return err
		}
		out.Conversation = c
		return nil
	})
	return out, err
}
