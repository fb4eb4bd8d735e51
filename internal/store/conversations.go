package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Conversation statuses.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Event types, the entries of a conversation's transcript.
const (
	EventMessage     = "message"
	EventAssigned    = "assigned"
	EventEnded       = "ended"
	EventTransferred = "transferred" // the agent handed the conversation back to the group's queue
)

// Authors of events.
const (
	AuthorVisitor = "visitor"
	AuthorAgent   = "agent"
	AuthorBot     = "bot"
	AuthorSystem  = "system"
)

// Conversation is one thread between a visitor of a site and the company.
type Conversation struct {
	ID        string
	SiteID    string
	VisitorID string
	Status    string
	AgentID   string // "" while nobody has taken it
	LastSeq   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  time.Time // zero while open
	// VisitorReadSeq and AgentReadSeq are the last seq the visitor, and the conversation's agent, have seen.
	VisitorReadSeq int64
	AgentReadSeq   int64
}

// Event is one numbered entry of a conversation: a message, an assignment, its end. Seq runs 1, 2, 3, ... in each
// conversation, with no gaps.
type Event struct {
	ConversationID string
	Seq            int64
	Type           string
	Author         string
	AuthorID       string
	AuthorName     string
	Body           string
	ClientMsgID    string
	CreatedAt      time.Time
	// Data holds structured details as JSON, or "" (a call_ended event's call-quality record).
	Data string
}

// Appended is the outcome of a write that added events to a conversation.
type Appended struct {
	Conversation Conversation
	// Events holds what was committed, in seq order; a message is the last. For a duplicate, it holds the event
	// first stored.
	Events []Event
	// Created is true when the write opened a new conversation.
	Created bool
	// Duplicate is true when the client_msg_id was already stored: nothing new was written.
	Duplicate bool
}

// Last is the last event written: the message, for a write that stored one.
func (a Appended) Last() Event { return a.Events[len(a.Events)-1] }

const convCols = "id, site_id, visitor_id, status, agent_id, last_seq, created_at, updated_at, closed_at, visitor_read_seq, agent_read_seq"

func scanConv(sc interface{ Scan(...any) error }) (Conversation, error) {
	var c Conversation
	var agent sql.NullString
	var closed sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.SiteID, &c.VisitorID, &c.Status, &agent, &c.LastSeq, &created, &updated, &closed,
		&c.VisitorReadSeq, &c.AgentReadSeq); err != nil {
		return Conversation{}, notFound(err)
	}
	c.AgentID = agent.String
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	if closed.Valid {
		c.ClosedAt = fromMS(closed.Int64)
	}
	return c, nil
}

const eventCols = "conversation_id, seq, type, author, author_id, author_name, body, client_msg_id, created_at, data"

func scanEvent(sc interface{ Scan(...any) error }) (Event, error) {
	var e Event
	var cmid sql.NullString
	var created int64
	if err := sc.Scan(&e.ConversationID, &e.Seq, &e.Type, &e.Author, &e.AuthorID, &e.AuthorName, &e.Body, &cmid, &created, &e.Data); err != nil {
		return Event{}, notFound(err)
	}
	e.ClientMsgID = cmid.String
	e.CreatedAt = fromMS(created)
	return e, nil
}

// Conversation returns a conversation by id.
func (s *Store) Conversation(ctx context.Context, id string) (Conversation, error) {
	return scanConv(s.q().row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", id))
}

// OpenConversation returns the visitor's open conversation on a site.
func (s *Store) OpenConversation(ctx context.Context, siteID, visitorID string) (Conversation, error) {
	return scanConv(s.q().row(ctx, "SELECT "+convCols+" FROM conversations WHERE site_id = ? AND visitor_id = ? AND status = ?",
		siteID, visitorID, StatusOpen))
}

// Events returns a conversation's events after seq, in order, at most limit of them.
func (s *Store) Events(ctx context.Context, convID string, after int64, limit int) ([]Event, error) {
	rows, err := s.q().query(ctx, "SELECT "+eventCols+" FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?",
		convID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return scanAll(rows, nil, scanEvent)
}

// appendEvent numbers e in its conversation and stores it, inside tx.
func appendEvent(ctx context.Context, tx q, e *Event) error {
	// The UPDATE takes the conversation's row lock (PostgreSQL) or the database's write lock (SQLite), so
	// concurrent writers to one conversation get consecutive numbers.
	if err := tx.row(ctx, "UPDATE conversations SET last_seq = last_seq + 1, updated_at = ? WHERE id = ? RETURNING last_seq",
		ms(e.CreatedAt), e.ConversationID).Scan(&e.Seq); err != nil {
		return fmt.Errorf("store: number event: %w", notFound(err))
	}
	_, err := tx.exec(ctx, "INSERT INTO events ("+eventCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ConversationID, e.Seq, e.Type, e.Author, e.AuthorID, e.AuthorName, e.Body, nullable(e.ClientMsgID), ms(e.CreatedAt), e.Data)
	if isUnique(err) {
		// Another transaction stored the same client_msg_id first: run again and find it as a duplicate.
		return errRetry
	}
	if err != nil {
		return fmt.Errorf("store: insert event: %w", err)
	}
	return nil
}

// duplicate looks up an event already stored for (authorID, clientMsgID).
func duplicate(ctx context.Context, tx q, authorID, clientMsgID string) (Event, Conversation, bool, error) {
	if clientMsgID == "" {
		return Event{}, Conversation{}, false, nil
	}
	e, err := scanEvent(tx.row(ctx, "SELECT "+eventCols+" FROM events WHERE author_id = ? AND client_msg_id = ?", authorID, clientMsgID))
	if errors.Is(err, ErrNotFound) {
		return Event{}, Conversation{}, false, nil
	}
	if err != nil {
		return Event{}, Conversation{}, false, err
	}
	c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", e.ConversationID))
	return e, c, true, err
}

// VisitorMessage is a message from a visitor.
type VisitorMessage struct {
	SiteID         string
	VisitorID      string
	VisitorName    string
	ConversationID string // "" means the visitor's open conversation, created when there is none
	ClientMsgID    string
	Body           string
	// Data is the event's structured details as JSON, or "" (the quick reply the visitor chose).
	Data string
	// File, when set, is stored with the message (Body is then its name) and Data names it.
	File *File
	// InvitationID is the proactive invitation the visitor answers, if any: a message that opens a conversation
	// then follows the invitation's "invited" event.
	InvitationID string
	At           time.Time
}

// AppendVisitorMessage stores a visitor's message in one transaction. When the visitor names a conversation it
// must be theirs (else ErrNotFound) and open (else ErrClosed). When they name none, the message goes to their open
// conversation on the site, and the first message opens one.
func (s *Store) AppendVisitorMessage(ctx context.Context, m VisitorMessage) (Appended, error) {
	var out Appended
	err := s.inTx(ctx, func(tx q) error {
		out = Appended{}
		if e, c, dup, err := duplicate(ctx, tx, m.VisitorID, m.ClientMsgID); err != nil || dup {
			out = Appended{Conversation: c, Events: []Event{e}, Duplicate: dup}
			return err
		}
		var c Conversation
		var err error
		if m.ConversationID != "" {
			c, err = scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ? AND site_id = ? AND visitor_id = ?",
				m.ConversationID, m.SiteID, m.VisitorID))
			if err != nil {
				return err
			}
			if c.Status != StatusOpen {
				return ErrClosed
			}
		} else {
			c, err = scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE site_id = ? AND visitor_id = ? AND status = ?",
				m.SiteID, m.VisitorID, StatusOpen))
			if errors.Is(err, ErrNotFound) {
				c = Conversation{ID: NewID("cv"), SiteID: m.SiteID, VisitorID: m.VisitorID, Status: StatusOpen,
					CreatedAt: m.At, UpdatedAt: m.At}
				_, err = tx.exec(ctx, "INSERT INTO conversations (id, site_id, visitor_id, status, last_seq, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
					c.ID, c.SiteID, c.VisitorID, c.Status, ms(m.At), ms(m.At))
				if isUnique(err) {
					return errRetry // another tab of this visitor opened it first
				}
				out.Created = true
			}
			if err != nil {
				return err
			}
		}
		if out.Created && m.InvitationID != "" {
			invited, err := appendInvited(ctx, tx, c, m.InvitationID, m.At)
			if err != nil {
				return err
			}
			if invited != nil {
				out.Events = append(out.Events, *invited)
			}
		}
		e := Event{ConversationID: c.ID, Type: EventMessage, Author: AuthorVisitor, AuthorID: m.VisitorID,
			AuthorName: m.VisitorName, Body: m.Body, ClientMsgID: m.ClientMsgID, CreatedAt: m.At, Data: m.Data}
		if m.File != nil {
			if e.Data, err = insertAttachment(ctx, tx, c.ID, m.File, m.At); err != nil {
				return err
			}
		}
		if err := appendEvent(ctx, tx, &e); err != nil {
			return err
		}
		c.LastSeq, c.UpdatedAt = e.Seq, m.At
		out.Conversation, out.Events = c, append(out.Events, e)
		return nil
	})
	return out, err
}

// AgentMessage is a message from an agent.
type AgentMessage struct {
	AgentID        string
	AgentName      string
	ConversationID string
	ClientMsgID    string
	Body           string
	// File, when set, is stored with the message (Body is then its name), and the event's data names it.
	File *File
	At   time.Time
}

// mine checks in tx that conversation id is assigned to the agent (else ErrNotFound) and open (else ErrClosed).
// Taking a waiting conversation goes through Claim, which checks the agent's capacity.
func mine(ctx context.Context, tx q, id, agentID string) (Conversation, error) {
	c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", id))
	return ownedOpen(c, err, agentID)
}

// lockMine is mine with the conversation's row locked until tx ends.
func (s *Store) lockMine(ctx context.Context, tx q, id, agentID string) (Conversation, error) {
	c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?"+s.forUpdate(false), id))
	return ownedOpen(c, err, agentID)
}

// ownedOpen checks a conversation just read (c, err) is the agent's (else ErrNotFound) and open (else ErrClosed).
func ownedOpen(c Conversation, err error, agentID string) (Conversation, error) {
	if err != nil {
		return Conversation{}, err
	}
	if c.AgentID != agentID {
		return Conversation{}, ErrNotFound
	}
	if c.Status != StatusOpen {
		return c, ErrClosed
	}
	return c, nil
}

// canSee reports whether the agent belongs to a group routed to the site.
func canSee(ctx context.Context, tx q, siteID, agentID string) bool {
	var n int
	err := tx.row(ctx, `SELECT COUNT(*) FROM sites s JOIN group_members m ON m.group_id = s.group_id
		WHERE s.id = ? AND m.account_id = ?`, siteID, agentID).Scan(&n)
	return err == nil && n > 0
}

// AppendAgentMessage stores an agent's reply in one transaction. The conversation must be assigned to the agent
// (else ErrNotFound) and open (else ErrClosed).
func (s *Store) AppendAgentMessage(ctx context.Context, m AgentMessage) (Appended, error) {
	var out Appended
	err := s.inTx(ctx, func(tx q) error {
		out = Appended{}
		if e, c, dup, err := duplicate(ctx, tx, m.AgentID, m.ClientMsgID); err != nil || dup {
			if dup && c.ID != m.ConversationID {
				return fmt.Errorf("client_msg_id reused in another conversation: %w", ErrConflict)
			}
			out = Appended{Conversation: c, Events: []Event{e}, Duplicate: dup}
			return err
		}
		c, err := mine(ctx, tx, m.ConversationID, m.AgentID)
		if err != nil {
			return err
		}
		e := Event{ConversationID: c.ID, Type: EventMessage, Author: AuthorAgent, AuthorID: m.AgentID,
			AuthorName: m.AgentName, Body: m.Body, ClientMsgID: m.ClientMsgID, CreatedAt: m.At}
		if m.File != nil {
			if e.Data, err = insertAttachment(ctx, tx, c.ID, m.File, m.At); err != nil {
				return err
			}
		}
		if err := appendEvent(ctx, tx, &e); err != nil {
			return err
		}
		c.LastSeq, c.UpdatedAt = e.Seq, m.At
		out.Conversation, out.Events = c, []Event{e}
		return nil
	})
	return out, err
}

// EndConversation closes a conversation assigned to the agent and appends the "ended" event. Ending a closed
// conversation is ErrClosed.
func (s *Store) EndConversation(ctx context.Context, convID, agentID, agentName string, at time.Time) (Appended, error) {
	var out Appended
	err := s.inTx(ctx, func(tx q) error {
		out = Appended{}
		c, err := mine(ctx, tx, convID, agentID)
		if err != nil {
			return err
		}
		out, err = closeConversation(ctx, tx, c, Event{Author: AuthorSystem, AuthorID: agentID, AuthorName: agentName}, at)
		return err
	})
	return out, err
}

// closeConversation closes c and appends its "ended" event, e (whose conversation, type and time it fills in).
func closeConversation(ctx context.Context, tx q, c Conversation, e Event, at time.Time) (Appended, error) {
	if _, err := tx.exec(ctx, "UPDATE conversations SET status = ?, closed_at = ? WHERE id = ?", StatusClosed, ms(at), c.ID); err != nil {
		return Appended{}, err
	}
	e.ConversationID, e.Type, e.CreatedAt = c.ID, EventEnded, at
	if err := appendEvent(ctx, tx, &e); err != nil {
		return Appended{}, err
	}
	c.Status, c.ClosedAt, c.LastSeq, c.UpdatedAt = StatusClosed, at, e.Seq, at
	return Appended{Conversation: c, Events: []Event{e}}, nil
}

// Inactive conversations: open, nothing appended since before, no call under way, nobody waiting in a queue for
// it (the queue's maximum wait looks after those), and not a message left for the agents to answer later (it stays
// in their waiting list until one of them takes it).
const inactiveWhere = `c.status = 'open' AND c.updated_at < ? AND NOT (c.agent_id IS NULL AND c.contact_email <> '')
	AND NOT EXISTS (SELECT 1 FROM calls k WHERE k.conversation_id = c.id AND k.ended_at = 0)
	AND NOT EXISTS (SELECT 1 FROM routing_requests r WHERE r.conversation_id = c.id AND r.state IN ('queued', 'offered'))`

// InactiveConversations lists up to limit conversations that have been inactive since before, oldest first.
func (s *Store) InactiveConversations(ctx context.Context, before time.Time, limit int) ([]string, error) {
	return s.strings(ctx, "SELECT c.id FROM conversations c WHERE "+inactiveWhere+" ORDER BY c.updated_at LIMIT ?", ms(before), limit)
}

// CloseInactive closes a conversation that is still inactive since before, with an "ended" event by the system
// whose data says why ({"reason": "inactive", "after_seconds": N}). A conversation that is closed already, or that
// came back to life meanwhile, is ErrClosed, and nothing changes.
func (s *Store) CloseInactive(ctx context.Context, convID string, before, at time.Time) (Appended, error) {
	var out Appended
	err := s.inTx(ctx, func(tx q) error {
		out = Appended{}
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations c WHERE c.id = ? AND "+inactiveWhere+s.forUpdate(false), convID, ms(before)))
		if errors.Is(err, ErrNotFound) {
			return ErrClosed
		}
		if err != nil {
			return err
		}
		data := fmt.Sprintf(`{"reason":"inactive","after_seconds":%d}`, int64(at.Sub(before).Seconds()))
		out, err = closeConversation(ctx, tx, c, Event{Author: AuthorSystem, Data: data}, at)
		return err
	})
	return out, err
}

// SetVisitorPage records the page of the site the visitor of an open conversation is on. Another visitor's
// conversation, or a closed one, is ErrNotFound.
func (s *Store) SetVisitorPage(ctx context.Context, convID, visitorID, url, title string) error {
	res, err := s.q().exec(ctx, "UPDATE conversations SET page_url = ?, page_title = ? WHERE id = ? AND visitor_id = ? AND status = ?",
		url, title, convID, visitorID, StatusOpen)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Summary is a conversation as the desk lists it.
type Summary struct {
	Conversation
	SiteName     string
	AgentName    string
	LastBody     string
	Routing      string // the chat request's state: queued, offered, assigned, refused, ...
	ContactEmail string // left by the visitor with a message
	PageURL      string // the page of the site the visitor is on, as the widget last said ("" before it did)
	PageTitle    string
	// RatingScore is the visitor's rating once the conversation ended (1 to 5; 0: not rated), with its comment.
	RatingScore   int
	RatingComment string
	// VisitorName and VisitorEmail are who the website said the visitor is, signed with its identity secret ("" when
	// it didn't).
	VisitorName  string
	VisitorEmail string
	// RoutingReason says why a conversation was turned away (Routing "refused" or "expired"): "queue_full",
	// "no_agent", "closed", ...; "" otherwise.
	RoutingReason string
	// Tags are the agents' tags on the conversation, in alphabetical order.
	Tags []string
}

const summarySelect = `SELECT c.id, c.site_id, c.visitor_id, c.status, c.agent_id, c.last_seq, c.created_at, c.updated_at,
	c.closed_at, c.visitor_read_seq, c.agent_read_seq, s.name, COALESCE(a.name, ''), c.routing, c.contact_email, c.page_url, c.page_title,
	COALESCE((SELECT e.body FROM events e WHERE e.conversation_id = c.id AND e.type = 'message' ORDER BY e.seq DESC LIMIT 1), ''),
	COALESCE(r.score, 0), COALESCE(r.comment, ''), COALESCE(vi.name, ''), COALESCE(vi.email, ''),
	CASE WHEN c.routing IN ('refused', 'expired') THEN COALESCE((SELECT rq.reason FROM routing_requests rq
	  WHERE rq.conversation_id = c.id AND rq.channel = 'chat' ORDER BY rq.enqueued_at DESC LIMIT 1), '') ELSE '' END,
	COALESCE((SELECT string_agg(t.tag, ',' ORDER BY t.tag) FROM conversation_tags t WHERE t.conversation_id = c.id), '')
	FROM conversations c JOIN sites s ON s.id = c.site_id LEFT JOIN accounts a ON a.id = c.agent_id
	LEFT JOIN conversation_ratings r ON r.conversation_id = c.id
	LEFT JOIN visitor_identities vi ON vi.site_id = c.site_id AND vi.visitor_id = c.visitor_id `

func scanSummaries(rows *sql.Rows) ([]Summary, error) {
	defer rows.Close()
	var out []Summary
	for rows.Next() {
		var sm Summary
		var agent sql.NullString
		var closed sql.NullInt64
		var created, updated int64
		var tags string
		if err := rows.Scan(&sm.ID, &sm.SiteID, &sm.VisitorID, &sm.Status, &agent, &sm.LastSeq, &created, &updated, &closed,
			&sm.VisitorReadSeq, &sm.AgentReadSeq, &sm.SiteName, &sm.AgentName, &sm.Routing, &sm.ContactEmail, &sm.PageURL, &sm.PageTitle, &sm.LastBody,
			&sm.RatingScore, &sm.RatingComment, &sm.VisitorName, &sm.VisitorEmail, &sm.RoutingReason, &tags); err != nil {
			return nil, err
		}
		if tags != "" {
			sm.Tags = strings.Split(tags, ",")
		}
		sm.AgentID = agent.String
		sm.CreatedAt, sm.UpdatedAt = fromMS(created), fromMS(updated)
		if closed.Valid {
			sm.ClosedAt = fromMS(closed.Int64)
		}
		out = append(out, sm)
	}
	return out, rows.Err()
}

// DeskConversations lists what an agent's desk shows: the open conversations assigned to them or waiting in one of
// their groups, newest first, then their last 20 closed ones.
func (s *Store) DeskConversations(ctx context.Context, agentID string) ([]Summary, error) {
	rows, err := s.q().query(ctx, summarySelect+`WHERE c.status = 'open' AND (c.agent_id = ? OR (c.agent_id IS NULL AND c.site_id IN
		(SELECT s2.id FROM sites s2 JOIN group_members m ON m.group_id = s2.group_id WHERE m.account_id = ?)))
		ORDER BY c.updated_at DESC`, agentID, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: desk conversations: %w", err)
	}
	open, err := scanSummaries(rows)
	if err != nil {
		return nil, err
	}
	rows, err = s.q().query(ctx, summarySelect+`WHERE c.status = 'closed' AND c.agent_id = ? ORDER BY c.closed_at DESC LIMIT 20`, agentID)
	if err != nil {
		return nil, fmt.Errorf("store: desk conversations: %w", err)
	}
	closed, err := scanSummaries(rows)
	if err != nil {
		return nil, err
	}
	return append(open, closed...), nil
}

// ConversationSummary returns one conversation as the desk lists it.
func (s *Store) ConversationSummary(ctx context.Context, id string) (Summary, error) {
	rows, err := s.q().query(ctx, summarySelect+"WHERE c.id = ?", id)
	if err != nil {
		return Summary{}, err
	}
	out, err := scanSummaries(rows)
	if err != nil {
		return Summary{}, err
	}
	if len(out) == 0 {
		return Summary{}, ErrNotFound
	}
	return out[0], nil
}

// AgentCanSee reports whether an agent may read a conversation: it is theirs, it waits in one of their groups, or
// it is closed on a site one of their groups answers (the history of the visitors they talk to). Another agent's
// open conversation is not theirs to read.
func (s *Store) AgentCanSee(ctx context.Context, c Conversation, agentID string) bool {
	if c.AgentID == agentID {
		return true
	}
	return (c.AgentID == "" || c.Status == StatusClosed) && canSee(ctx, s.q(), c.SiteID, agentID)
}

// VisitorHistory lists the visitor's other conversations on the same site as c, newest first (at most 20): what an
// agent talking to them may read of their earlier visits.
func (s *Store) VisitorHistory(ctx context.Context, c Conversation) ([]Summary, error) {
	rows, err := s.q().query(ctx, summarySelect+"WHERE c.site_id = ? AND c.visitor_id = ? AND c.id <> ? AND c.status = ? ORDER BY c.created_at DESC LIMIT 20",
		c.SiteID, c.VisitorID, c.ID, StatusClosed)
	if err != nil {
		return nil, err
	}
	return scanSummaries(rows)
}

// OpenOrCreateConversation returns the visitor's open conversation on the site, opening one if they have none.
// created says it was opened now.
func (s *Store) OpenOrCreateConversation(ctx context.Context, siteID, visitorID string, now time.Time) (c Conversation, created bool, err error) {
	err = s.inTx(ctx, func(tx q) error {
		created = false
		c, err = scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE site_id = ? AND visitor_id = ? AND status = ?",
			siteID, visitorID, StatusOpen))
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		c = Conversation{ID: NewID("cv"), SiteID: siteID, VisitorID: visitorID, Status: StatusOpen, CreatedAt: now, UpdatedAt: now}
		_, err = tx.exec(ctx, "INSERT INTO conversations (id, site_id, visitor_id, status, last_seq, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
			c.ID, c.SiteID, c.VisitorID, c.Status, ms(now), ms(now))
		if isUnique(err) {
			return errRetry // another tab of this visitor opened it first
		}
		created = err == nil
		return err
	})
	return c, created, err
}
