package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Channels a conversation can be routed on.
const (
	ChannelChat  = "chat"
	ChannelVideo = "video"
)

// Presence statuses, per agent and channel.
const (
	StatusAvailable     = "available"
	StatusAway          = "away"
	StatusOffline       = "offline"
	StatusNotResponding = "not_responding"
)

// Request states. A request lives queued -> offered -> assigned -> closed; an offer that is declined or missed
// sends it back to queued. It can also end refused (no room in the queue), abandoned (the visitor left), expired
// (waited past the group's maximum) or cancelled (the conversation ended first).
const (
	RequestQueued    = "queued"
	RequestOffered   = "offered"
	RequestAssigned  = "assigned"
	RequestClosed    = "closed"
	RequestRefused   = "refused"
	RequestAbandoned = "abandoned"
	RequestExpired   = "expired"
	RequestCancelled = "cancelled"
)

// Offer states.
const (
	OfferPending   = "pending"
	OfferAccepted  = "accepted"
	OfferDeclined  = "declined"
	OfferTimedOut  = "timed_out"
	OfferWithdrawn = "withdrawn"
	OfferTaken     = "taken" // another agent of a group-wide offer was first
)

// Errors of the routing operations.
var (
	ErrAtCapacity = errors.New("store: agent at capacity")
	ErrOfferEnded = errors.New("store: offer already ended")
)

// Presence is an agent's status on each channel.
type Presence struct {
	AccountID string
	Chat      string
	Video     string
}

// Request is one conversation waiting for, or served by, an agent on one channel.
type Request struct {
	ID             string
	ConversationID string
	Channel        string
	GroupID        string
	Priority       int
	State          string
	Reason         string
	EnqueuedAt     time.Time
	UpdatedAt      time.Time
	AssignedAt     time.Time
	EndedAt        time.Time
	AgentID        string
	Attempts       int
	Broadcast      bool
	VisitorSeenAt  time.Time
	ETABucket      string
	// VisitorID is the conversation's visitor; only Queue fills it in.
	VisitorID string
}

// Offer is a conversation ringing on one agent's desk until its deadline.
type Offer struct {
	ID             string
	RequestID      string
	AgentID        string
	ConversationID string
	Channel        string
	State          string
	CreatedAt      time.Time
	Deadline       time.Time
	EndedAt        time.Time
}

// Decision is what one routing transaction changed, for the engine to announce.
type Decision struct {
	Request Request
	// NewOffers were made; EndedOffers ended (their State says how).
	NewOffers   []Offer
	EndedOffers []Offer
	// Assigned holds the conversation and its "assigned" event when the request was assigned.
	Assigned *Appended
	// NotResponding lists agents who missed an offer and are now not_responding.
	NotResponding []string
}

const requestCols = `id, conversation_id, channel, group_id, priority, state, reason, enqueued_at, updated_at, assigned_at,
	ended_at, agent_id, attempts, broadcast, visitor_seen_at, eta_bucket`

func scanRequest(sc interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var enq, upd, seen int64
	var assigned, ended sql.NullInt64
	var agent sql.NullString
	if err := sc.Scan(&r.ID, &r.ConversationID, &r.Channel, &r.GroupID, &r.Priority, &r.State, &r.Reason, &enq, &upd,
		&assigned, &ended, &agent, &r.Attempts, &r.Broadcast, &seen, &r.ETABucket); err != nil {
		return Request{}, notFound(err)
	}
	r.EnqueuedAt, r.UpdatedAt, r.VisitorSeenAt = fromMS(enq), fromMS(upd), fromMS(seen)
	if assigned.Valid {
		r.AssignedAt = fromMS(assigned.Int64)
	}
	if ended.Valid {
		r.EndedAt = fromMS(ended.Int64)
	}
	r.AgentID = agent.String
	return r, nil
}

func scanRequests(rows *sql.Rows, err error) ([]Request, error) {
	return scanAll(rows, err, scanRequest)
}

const offerCols = "id, request_id, agent_id, conversation_id, channel, state, created_at, deadline, ended_at"

func scanOffer(sc interface{ Scan(...any) error }) (Offer, error) {
	var o Offer
	var created, deadline int64
	var ended sql.NullInt64
	if err := sc.Scan(&o.ID, &o.RequestID, &o.AgentID, &o.ConversationID, &o.Channel, &o.State, &created, &deadline, &ended); err != nil {
		return Offer{}, notFound(err)
	}
	o.CreatedAt, o.Deadline = fromMS(created), fromMS(deadline)
	if ended.Valid {
		o.EndedAt = fromMS(ended.Int64)
	}
	return o, nil
}

func scanOffers(rows *sql.Rows, err error) ([]Offer, error) {
	return scanAll(rows, err, scanOffer)
}

// forUpdate locks the selected rows until the transaction ends, on PostgreSQL. SQLite needs no row locks: its
// transactions take the database's write lock when they begin (_txlock=immediate), so they run one at a time.
func (s *Store) forUpdate(skipLocked bool) string {
	if s.dialect != postgresDialect {
		return ""
	}
	if skipLocked {
		return " FOR UPDATE SKIP LOCKED"
	}
	return " FOR UPDATE"
}

// AgentPresence returns an agent's presence; a channel never set is offline.
func (s *Store) AgentPresence(ctx context.Context, accountID string) (Presence, error) {
	return presenceOf(ctx, s.q(), accountID)
}

func presenceOf(ctx context.Context, tx q, accountID string) (Presence, error) {
	p := Presence{AccountID: accountID, Chat: StatusOffline, Video: StatusOffline}
	rows, err := tx.query(ctx, "SELECT channel, status FROM presence WHERE account_id = ?", accountID)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var ch, st string
		if err := rows.Scan(&ch, &st); err != nil {
			return p, err
		}
		switch ch {
		case ChannelChat:
			p.Chat = st
		case ChannelVideo:
			p.Video = st
		}
	}
	return p, rows.Err()
}

func setPresence(ctx context.Context, tx q, accountID, channel, status string, now time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO presence (account_id, channel, status, changed_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id, channel) DO UPDATE SET status = excluded.status, changed_at = excluded.changed_at`,
		accountID, channel, status, ms(now))
	return err
}

// markNotResponding sets not_responding on each channel an agent who missed an offer was available on: they are
// not at their desk, so nothing else should ring there. A channel they were away or offline on stays so.
func markNotResponding(ctx context.Context, tx q, accountID string, now time.Time) error {
	_, err := tx.exec(ctx, "UPDATE presence SET status = ?, changed_at = ? WHERE account_id = ? AND status = ?",
		StatusNotResponding, ms(now), accountID, StatusAvailable)
	return err
}

// SetPresence sets an agent's status on a channel. Going away or offline withdraws the agent's pending offers on
// that channel, whose requests go back to the queue.
func (s *Store) SetPresence(ctx context.Context, accountID, channel, status string, now time.Time) (Presence, []Decision, error) {
	var p Presence
	var decisions []Decision
	err := s.inTx(ctx, func(tx q) error {
		decisions = nil
		if err := setPresence(ctx, tx, accountID, channel, status, now); err != nil {
			return err
		}
		if status != StatusAvailable {
			ds, err := s.withdrawOffers(ctx, tx, accountID, channel, now)
			if err != nil {
				return err
			}
			decisions = ds
		}
		var err error
		p, err = presenceOf(ctx, tx, accountID)
		return err
	})
	return p, decisions, err
}

// withdrawOffers ends an agent's pending offers on a channel ("" for all) and requeues their requests.
func (s *Store) withdrawOffers(ctx context.Context, tx q, agentID, channel string, now time.Time) ([]Decision, error) {
	query := "SELECT " + offerCols + " FROM offers WHERE agent_id = ? AND state = ?"
	args := []any{agentID, OfferPending}
	if channel != "" {
		query += " AND channel = ?"
		args = append(args, channel)
	}
	offers, err := scanOffers(tx.query(ctx, query, args...))
	if err != nil {
		return nil, err
	}
	var out []Decision
	for _, o := range offers {
		d, err := s.endOffer(ctx, tx, o, OfferWithdrawn, false, now)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// endOffer ends a pending offer and, when it was the request's last pending offer, puts the request back in the
// queue. exclude keeps the agent from being offered this request again.
func (s *Store) endOffer(ctx context.Context, tx q, o Offer, state string, exclude bool, now time.Time) (Decision, error) {
	if _, err := tx.exec(ctx, "UPDATE offers SET state = ?, ended_at = ? WHERE id = ?", state, ms(now), o.ID); err != nil {
		return Decision{}, err
	}
	o.State, o.EndedAt = state, now
	d := Decision{EndedOffers: []Offer{o}}
	if exclude {
		if _, err := tx.exec(ctx, "INSERT INTO routing_exclusions (request_id, agent_id) VALUES (?, ?) ON CONFLICT DO NOTHING", o.RequestID, o.AgentID); err != nil {
			return Decision{}, err
		}
	}
	r, err := scanRequest(tx.row(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE id = ?"+s.forUpdate(false), o.RequestID))
	if err != nil {
		return Decision{}, err
	}
	var pending int
	if err := tx.row(ctx, "SELECT COUNT(*) FROM offers WHERE request_id = ? AND state = ?", o.RequestID, OfferPending).Scan(&pending); err != nil {
		return Decision{}, err
	}
	if r.State == RequestOffered && pending == 0 {
		g, err := scanGroup(tx.row(ctx, "SELECT "+groupCols+" FROM routing_groups WHERE id = ?", r.GroupID))
		if err != nil {
			return Decision{}, err
		}
		// After enough agents declined or missed it one by one, offer it to the whole group at once.
		r.Broadcast = r.Broadcast || r.Attempts >= g.MaxAttempts
		if err := s.setRequestState(ctx, tx, &r, RequestQueued, "", now); err != nil {
			return Decision{}, err
		}
	}
	d.Request = r
	return d, nil
}

// setRequestState moves a request to state and writes the rest of what the caller changed in r with it (attempts,
// broadcast, agent, assignment time): one statement per decision. r must have been read in tx (locked on PostgreSQL).
func (s *Store) setRequestState(ctx context.Context, tx q, r *Request, state, reason string, now time.Time) error {
	r.State, r.Reason, r.UpdatedAt = state, reason, now
	var ended, assigned, agent any
	switch state {
	case RequestClosed, RequestRefused, RequestAbandoned, RequestExpired, RequestCancelled:
		r.EndedAt = now
		ended = ms(now)
	}
	if !r.AssignedAt.IsZero() {
		assigned = ms(r.AssignedAt)
	}
	if r.AgentID != "" {
		agent = r.AgentID
	}
	if _, err := tx.exec(ctx, `UPDATE routing_requests SET state = ?, reason = ?, updated_at = ?, ended_at = ?, attempts = ?, broadcast = ?,
		agent_id = ?, assigned_at = ? WHERE id = ?`, state, reason, ms(now), ended, r.Attempts, r.Broadcast, agent, assigned, r.ID); err != nil {
		return err
	}
	if r.Channel == ChannelChat {
		if _, err := tx.exec(ctx, "UPDATE conversations SET routing = ? WHERE id = ?", state, r.ConversationID); err != nil {
			return err
		}
	}
	return nil
}

// CreateRequest puts a conversation in its group's queue for a channel. A conversation already waiting or served
// on that channel is ErrConflict.
func (s *Store) CreateRequest(ctx context.Context, convID, channel, groupID string, priority int, now time.Time) (Request, error) {
	var r Request
	err := s.inTx(ctx, func(tx q) error {
		var err error
		if r, err = insertRequest(ctx, tx, convID, channel, groupID, priority, now); err != nil {
			return err
		}
		if channel == ChannelChat {
			_, err = tx.exec(ctx, "UPDATE conversations SET routing = ? WHERE id = ?", r.State, convID)
		}
		return err
	})
	return r, err
}

// insertRequest adds a request of the conversation waiting on the channel from now, in tx. A request already live
// on that channel is ErrConflict.
func insertRequest(ctx context.Context, tx q, convID, channel, groupID string, priority int, now time.Time) (Request, error) {
	r := Request{ID: NewOrderedID("rq"), ConversationID: convID, Channel: channel, GroupID: groupID, Priority: priority,
		State: RequestQueued, EnqueuedAt: now, UpdatedAt: now, VisitorSeenAt: now}
	_, err := tx.exec(ctx, "INSERT INTO routing_requests (id, conversation_id, channel, group_id, priority, state, enqueued_at, updated_at, visitor_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.ID, convID, channel, groupID, priority, r.State, ms(now), ms(now), ms(now))
	if isUnique(err) {
		return r, ErrConflict
	}
	return r, err
}

// Request returns a routing request by id.
func (s *Store) Request(ctx context.Context, id string) (Request, error) {
	return scanRequest(s.q().row(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE id = ?", id))
}

// LatestRequest returns the newest request of a conversation on a channel.
func (s *Store) LatestRequest(ctx context.Context, convID, channel string) (Request, error) {
	return scanRequest(s.q().row(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE conversation_id = ? AND channel = ? ORDER BY enqueued_at DESC, id DESC LIMIT 1",
		convID, channel))
}

// QueueAhead counts the requests waiting in r's queue that are served before r: with a higher priority, or the
// same priority and an earlier place. It doesn't read the queue, which Queue does.
func (s *Store) QueueAhead(ctx context.Context, r Request) (int, error) {
	var n int
	err := s.q().row(ctx, `SELECT COUNT(*) FROM routing_requests WHERE group_id = ? AND channel = ? AND state = ? AND id <> ?
		AND (priority > ? OR (priority = ? AND (enqueued_at < ? OR (enqueued_at = ? AND id < ?))))`,
		r.GroupID, r.Channel, RequestQueued, r.ID, r.Priority, r.Priority, ms(r.EnqueuedAt), ms(r.EnqueuedAt), r.ID).Scan(&n)
	return n, err
}

// Queue returns the requests waiting in a group's queue for a channel, first served first: by priority, then by
// the time they joined, with their visitors.
func (s *Store) Queue(ctx context.Context, groupID, channel string) ([]Request, error) {
	rows, err := s.q().query(ctx, "SELECT "+requestColsR+", c.visitor_id FROM routing_requests r JOIN conversations c ON c.id = r.conversation_id WHERE r.group_id = ? AND r.channel = ? AND r.state = ? ORDER BY r.priority DESC, r.enqueued_at, r.id",
		groupID, channel, RequestQueued)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var visitor string
		r, err := scanRequest(scanWith(rows, &visitor))
		if err != nil {
			return nil, err
		}
		r.VisitorID = visitor
		out = append(out, r)
	}
	return out, rows.Err()
}

const requestColsR = `r.id, r.conversation_id, r.channel, r.group_id, r.priority, r.state, r.reason, r.enqueued_at, r.updated_at,
	r.assigned_at, r.ended_at, r.agent_id, r.attempts, r.broadcast, r.visitor_seen_at, r.eta_bucket`

// scanWith scans extra columns after the ones a scan function reads.
type scanWithExtra struct {
	rows  *sql.Rows
	extra []any
}

func scanWith(rows *sql.Rows, extra ...any) scanWithExtra { return scanWithExtra{rows, extra} }

func (s scanWithExtra) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra...)...) }

// Refuse ends a queued request as refused, with a reason.
func (s *Store) Refuse(ctx context.Context, reqID, reason string, now time.Time) (Request, error) {
	var r Request
	err := s.inTx(ctx, func(tx q) error {
		var err error
		r, err = scanRequest(tx.row(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE id = ?"+s.forUpdate(false), reqID))
		if err != nil {
			return err
		}
		if r.State != RequestQueued {
			return ErrConflict
		}
		return s.setRequestState(ctx, tx, &r, RequestRefused, reason, now)
	})
	return r, err
}

// candidate is an agent who might take a request, with their current load.
type candidate struct {
	ID, Name     string
	Capacity     int
	ChatLoad     int // open conversations plus pending chat offers
	PendingChat  int
	VideoBusy    int // video calls plus pending video offers
	LastAssigned int64
}

// eligible reports whether the agent can take one more conversation on the channel.
func (c candidate) eligible(channel string) bool {
	if c.VideoBusy > 0 {
		return false // a video call, or a ringing one, takes the agent's whole capacity
	}
	if channel == ChannelVideo {
		return c.PendingChat == 0
	}
	return c.ChatLoad < c.Capacity
}

const candidateSelect = `SELECT a.id, a.name, a.chat_capacity, a.last_assigned_at,
	(SELECT COUNT(*) FROM conversations c WHERE c.agent_id = a.id AND c.status = 'open'),
	(SELECT COUNT(*) FROM offers o WHERE o.agent_id = a.id AND o.state = 'pending' AND o.channel = 'chat'),
	(SELECT COUNT(*) FROM routing_requests r WHERE r.agent_id = a.id AND r.channel = 'video' AND r.state = 'assigned')
	  + (SELECT COUNT(*) FROM offers o WHERE o.agent_id = a.id AND o.state = 'pending' AND o.channel = 'video')
	FROM accounts a `

func scanCandidates(rows *sql.Rows, err error) ([]candidate, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		var open int
		if err := rows.Scan(&c.ID, &c.Name, &c.Capacity, &c.LastAssigned, &open, &c.PendingChat, &c.VideoBusy); err != nil {
			return nil, err
		}
		c.ChatLoad = open + c.PendingChat
		out = append(out, c)
	}
	return out, rows.Err()
}

// pool lists the agents of a group who are available on the channel and can take one more conversation on it,
// least busy first, then longest idle.
func (s *Store) pool(ctx context.Context, tx q, groupID, channel string) ([]candidate, error) {
	cs, err := scanCandidates(tx.query(ctx, candidateSelect+`
		JOIN group_members m ON m.account_id = a.id AND m.group_id = ?
		JOIN presence p ON p.account_id = a.id AND p.channel = ? AND p.status = 'available'
		WHERE a.disabled = FALSE`, groupID, channel))
	if err != nil {
		return nil, err
	}
	out := cs[:0]
	for _, c := range cs {
		if c.eligible(channel) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		li := float64(out[i].ChatLoad) / float64(max(out[i].Capacity, 1))
		lj := float64(out[j].ChatLoad) / float64(max(out[j].Capacity, 1))
		if li != lj {
			return li < lj
		}
		if out[i].LastAssigned != out[j].LastAssigned {
			return out[i].LastAssigned < out[j].LastAssigned
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// excluded returns the agents who may not be offered a request: those who declined or missed it, and those it
// rings for now.
func excluded(ctx context.Context, tx q, reqID string) (map[string]bool, error) {
	rows, err := tx.query(ctx, `SELECT agent_id FROM routing_exclusions WHERE request_id = ?
		UNION SELECT agent_id FROM offers WHERE request_id = ? AND state = 'pending'`, reqID, reqID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// lockAgent takes an agent's row lock and re-reads their load, so that two transactions can't both fill the
// agent's last slot. (On SQLite the transaction already holds the database's write lock.)
func (s *Store) lockAgent(ctx context.Context, tx q, agentID, channel string) (candidate, bool, error) {
	c, _, eligible, err := s.tryLockAgent(ctx, tx, agentID, channel, false)
	return c, eligible, err
}

// tryLockAgent is lockAgent that, with skipLocked, doesn't wait for a lock another transaction holds: got is then
// false.
func (s *Store) tryLockAgent(ctx context.Context, tx q, agentID, channel string, skipLocked bool) (c candidate, got, eligible bool, err error) {
	if s.dialect == postgresDialect {
		var id string
		err := tx.row(ctx, "SELECT id FROM accounts WHERE id = ?"+s.forUpdate(skipLocked), agentID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return candidate{}, false, false, nil // locked by another decision (or gone)
		}
		if err != nil {
			return candidate{}, false, false, err
		}
	}
	cs, err := scanCandidates(tx.query(ctx, candidateSelect+"WHERE a.id = ?", agentID))
	if err != nil || len(cs) == 0 {
		return candidate{}, false, false, err
	}
	return cs[0], true, cs[0].eligible(channel), nil
}

// chooseAgents picks from free (least busy first) the agents a request goes to: the first eligible one, or every
// eligible one for a request offered to the whole group. On PostgreSQL each is locked first. Decisions running at
// the same time on other nodes or goroutines would all pick the same least busy agent and queue on their row lock;
// instead an agent another decision holds is passed over for the next one, and only when every candidate is held
// does the decision wait, for the first of them. seen keeps what the transaction learnt of agents from one request
// to the next.
func (s *Store) chooseAgents(ctx context.Context, tx q, free []candidate, skip map[string]bool, channel string, all bool, seen *agentsSeen) ([]candidate, error) {
	var chosen []candidate
	var held []candidate
	for _, c := range free {
		if skip[c.ID] || seen.full[c.ID] {
			continue
		}
		if s.dialect == postgresDialect {
			if locked, ok := seen.locked[c.ID]; ok {
				c = locked
			} else {
				locked, got, eligible, err := s.tryLockAgent(ctx, tx, c.ID, channel, true)
				if err != nil {
					return nil, err
				}
				if !got {
					held = append(held, c)
					continue
				}
				if !eligible {
					seen.full[c.ID] = true
					continue
				}
				seen.locked[c.ID] = locked
				c = locked
			}
		}
		chosen = append(chosen, c)
		if !all {
			return chosen, nil
		}
	}
	if len(chosen) > 0 {
		return chosen, nil
	}
	for _, c := range held {
		locked, eligible, err := s.lockAgent(ctx, tx, c.ID, channel)
		if err != nil {
			return nil, err
		}
		if !eligible {
			seen.full[c.ID] = true
		} else {
			seen.locked[c.ID] = locked
			chosen = append(chosen, locked)
			if !all {
				break
			}
		}
	}
	return chosen, nil
}

// agentsSeen is what a decision's transaction learnt of the group's agents on PostgreSQL, where the pool read at
// its start may be stale: those it locked and found able to take more (locked), and those that can't (full). It
// holds their row locks, so neither changes before it commits. Without it, a transaction walking down the queue
// would lock and read every free agent again for each request, and find the same ones full.
type agentsSeen struct {
	locked map[string]candidate
	full   map[string]bool
}

// DispatchOne makes one routing decision for a group's queue on a channel: the first waiting request, in queue
// order, that an eligible agent can take is offered to (or, for chat in "assign" mode, assigned to) the least busy,
// longest idle such agent; a request offered to the whole group goes to every eligible agent at once. It is one
// transaction. ok is false when no request could be served.
func (s *Store) DispatchOne(ctx context.Context, groupID, channel string, now time.Time) (Decision, bool, error) {
	// First, without a transaction: when nobody waits, or nobody in the group has a free slot, nothing can be
	// served, and no write lock is taken. These are the common cases of a quiet and of a busy queue.
	var waiting int
	if err := s.q().row(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM routing_requests WHERE group_id = ? AND channel = ?
		AND state IN (?, ?) AND (state = ? OR broadcast = TRUE) LIMIT 1) w`, groupID, channel, RequestQueued, RequestOffered, RequestQueued).Scan(&waiting); err != nil || waiting == 0 {
		return Decision{}, false, err
	}
	if free, err := s.pool(ctx, s.q(), groupID, channel); err != nil || len(free) == 0 {
		return Decision{}, false, err
	}
	var d Decision
	var ok bool
	err := s.inTx(ctx, func(tx q) error {
		d, ok = Decision{}, false
		g, err := scanGroup(tx.row(ctx, "SELECT "+groupCols+" FROM routing_groups WHERE id = ?", groupID))
		if err != nil {
			return err
		}
		free, err := s.pool(ctx, tx, groupID, channel)
		if err != nil || len(free) == 0 {
			return err
		}
		// Look at the head of the queue only: a request further back is served first only when those before it
		// are excluded from every free agent. A request offered to the whole group stays open to agents who
		// become free while it rings.
		reqs, err := scanRequests(tx.query(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE group_id = ? AND channel = ? AND state IN (?, ?) AND (state = ? OR broadcast = TRUE) ORDER BY priority DESC, enqueued_at, id LIMIT 50",
			groupID, channel, RequestQueued, RequestOffered, RequestQueued))
		if err != nil {
			return err
		}
		seen := &agentsSeen{locked: map[string]candidate{}, full: map[string]bool{}}
		for _, r := range reqs {
			if len(seen.full) == len(free) {
				return nil // every free agent turned out full: nothing more can be served
			}
			if s.dialect == postgresDialect {
				// Lock only the request being decided: another node deciding at the same time takes the next one
				// instead of waiting, and one that already took this one makes it vanish here.
				// What it reads under the lock replaces what the read above saw: an offer may have come and gone since.
				err := tx.row(ctx, "SELECT state, attempts, broadcast FROM routing_requests WHERE id = ? AND (state = ? OR (state = ? AND broadcast = TRUE)) FOR UPDATE SKIP LOCKED",
					r.ID, RequestQueued, RequestOffered).Scan(&r.State, &r.Attempts, &r.Broadcast)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return err
				}
			}
			skip, err := excluded(ctx, tx, r.ID)
			if err != nil {
				return err
			}
			chosen, err := s.chooseAgents(ctx, tx, free, skip, channel, r.Broadcast, seen)
			if err != nil {
				return err
			}
			if len(chosen) == 0 {
				continue
			}
			d.Request = r
			if channel == ChannelChat && g.ChatMode == ChatAssign && !r.Broadcast {
				app, err := s.assign(ctx, tx, &r, chosen[0].ID, chosen[0].Name, now)
				if err != nil {
					return err
				}
				d.Request, d.Assigned, ok = r, &app, true
				return nil
			}
			for _, c := range chosen {
				o, err := s.insertOffer(ctx, tx, r, c.ID, now.Add(g.OfferTimeout), now)
				if err != nil {
					return err
				}
				d.NewOffers = append(d.NewOffers, o)
			}
			r.Attempts++
			if err := s.setRequestState(ctx, tx, &r, RequestOffered, "", now); err != nil {
				return err
			}
			d.Request, ok = r, true
			return nil
		}
		return nil
	})
	return d, ok, err
}

// assign gives the request, and its conversation when nobody has it, to the agent, inside tx. The request leaves
// its queue: that counts in how fast the queue advances.
func (s *Store) assign(ctx context.Context, tx q, r *Request, agentID, agentName string, now time.Time) (Appended, error) {
	return s.assignTo(ctx, tx, r, agentID, agentName, now, true)
}

func (s *Store) assignTo(ctx context.Context, tx q, r *Request, agentID, agentName string, now time.Time, departure bool) (Appended, error) {
	r.AgentID, r.AssignedAt = agentID, now
	if err := s.setRequestState(ctx, tx, r, RequestAssigned, "", now); err != nil {
		return Appended{}, err
	}
	if departure {
		if err := recordDeparture(ctx, tx, r.GroupID, r.Channel, now); err != nil {
			return Appended{}, err
		}
	}
	// At the end: deciders lock agents' rows, so this one is held as briefly as possible.
	if err := tx.atEnd(func(tx q) error {
		_, err := tx.exec(ctx, "UPDATE accounts SET last_assigned_at = ? WHERE id = ?", ms(now), agentID)
		return err
	}); err != nil {
		return Appended{}, err
	}
	c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", r.ConversationID))
	if err != nil {
		return Appended{}, err
	}
	var evs []Event
	// A conversation nobody has goes to the agent; so does one whose video call the agent takes (the chat follows
	// the call, and the previous agent's slot frees up).
	if c.AgentID == "" || (r.Channel == ChannelVideo && c.AgentID != agentID) {
		if _, err := tx.exec(ctx, "UPDATE conversations SET agent_id = ? WHERE id = ?", agentID, c.ID); err != nil {
			return Appended{}, err
		}
		c.AgentID = agentID
		e := Event{ConversationID: c.ID, Type: EventAssigned, Author: AuthorSystem, AuthorID: agentID, AuthorName: agentName, CreatedAt: now}
		if err := appendEvent(ctx, tx, &e); err != nil {
			return Appended{}, err
		}
		c.LastSeq = e.Seq
		evs = append(evs, e)
	}
	return Appended{Conversation: c, Events: evs}, nil
}

// AssignDirect gives a new request of the conversation on the channel straight to the agent, without the queue: the
// call an agent invited the visitor to goes to that agent. The agent's capacity rules apply (ErrAtCapacity). It is
// one transaction. A request already live on the channel is ErrConflict.
func (s *Store) AssignDirect(ctx context.Context, convID, channel, agentID string, now time.Time) (Decision, error) {
	var d Decision
	err := s.inTx(ctx, func(tx q) error {
		d = Decision{}
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?"+s.forUpdate(false), convID))
		if err != nil {
			return err
		}
		if c.Status != StatusOpen {
			return ErrClosed
		}
		var group sql.NullString
		if err := tx.row(ctx, "SELECT group_id FROM sites WHERE id = ?", c.SiteID).Scan(&group); err != nil {
			return notFound(err)
		}
		if group.String == "" {
			return ErrNotFound // a site without a routing group has no agents
		}
		me, eligible, err := s.lockAgent(ctx, tx, agentID, channel)
		if err != nil {
			return err
		}
		if me.ID == "" {
			return ErrNotFound
		}
		if !eligible {
			return ErrAtCapacity
		}
		r, err := insertRequest(ctx, tx, convID, channel, group.String, 0, now)
		if err != nil {
			return err
		}
		app, err := s.assignTo(ctx, tx, &r, agentID, me.Name, now, false)
		if err != nil {
			return err
		}
		d.Request, d.Assigned = r, &app
		return nil
	})
	return d, err
}

// AcceptOffer assigns the offer's conversation to the agent who accepts it. An offer that is not the agent's is
// ErrNotFound; one that has ended, or whose deadline has passed, is ErrOfferEnded, and nothing changes.
func (s *Store) AcceptOffer(ctx context.Context, offerID, agentID string, now time.Time) (Decision, error) {
	var d Decision
	err := s.inTx(ctx, func(tx q) error {
		d = Decision{}
		o, err := scanOffer(tx.row(ctx, "SELECT "+offerCols+" FROM offers WHERE id = ?"+s.forUpdate(false), offerID))
		if err != nil || o.AgentID != agentID {
			return ErrNotFound
		}
		if o.State != OfferPending || !now.Before(o.Deadline) {
			return ErrOfferEnded
		}
		r, err := scanRequest(tx.row(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE id = ?"+s.forUpdate(false), o.RequestID))
		if err != nil {
			return err
		}
		if r.State != RequestOffered {
			return ErrOfferEnded
		}
		var name string
		if err := tx.row(ctx, "SELECT name FROM accounts WHERE id = ?", agentID).Scan(&name); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "UPDATE offers SET state = ?, ended_at = ? WHERE id = ?", OfferAccepted, ms(now), o.ID); err != nil {
			return err
		}
		o.State, o.EndedAt = OfferAccepted, now
		d.EndedOffers = append(d.EndedOffers, o)
		// Other agents offered the same request (group-wide) lose it.
		others, err := scanOffers(tx.query(ctx, "SELECT "+offerCols+" FROM offers WHERE request_id = ? AND state = ?", r.ID, OfferPending))
		if err != nil {
			return err
		}
		for _, other := range others {
			if _, err := tx.exec(ctx, "UPDATE offers SET state = ?, ended_at = ? WHERE id = ?", OfferTaken, ms(now), other.ID); err != nil {
				return err
			}
			other.State, other.EndedAt = OfferTaken, now
			d.EndedOffers = append(d.EndedOffers, other)
		}
		app, err := s.assign(ctx, tx, &r, agentID, name, now)
		if err != nil {
			return err
		}
		if err := recordSample(ctx, tx, r.GroupID, r.Channel, "acc", float64(now.Sub(o.CreatedAt).Milliseconds())); err != nil {
			return err
		}
		d.Request, d.Assigned = r, &app
		return nil
	})
	return d, err
}

// DeclineOffer ends the agent's offer; the request goes back to the queue without them.
func (s *Store) DeclineOffer(ctx context.Context, offerID, agentID string, now time.Time) (Decision, error) {
	var d Decision
	err := s.inTx(ctx, func(tx q) error {
		o, err := scanOffer(tx.row(ctx, "SELECT "+offerCols+" FROM offers WHERE id = ?"+s.forUpdate(false), offerID))
		if err != nil || o.AgentID != agentID {
			return ErrNotFound
		}
		if o.State != OfferPending {
			return ErrOfferEnded
		}
		d, err = s.endOffer(ctx, tx, o, OfferDeclined, true, now)
		return err
	})
	return d, err
}

// TimeOutOffers ends every pending offer whose deadline has passed at now: the agent is excluded from the request,
// set not_responding on the channels they were available on (and loses their other offers), and the request goes
// back to the queue. Each offer is its own transaction.
func (s *Store) TimeOutOffers(ctx context.Context, now time.Time) ([]Decision, error) {
	ids, err := s.strings(ctx, "SELECT id FROM offers WHERE state = ? AND deadline <= ? ORDER BY deadline", OfferPending, ms(now))
	if err != nil {
		return nil, err
	}
	var out []Decision
	for _, id := range ids {
		var ds []Decision
		err := s.inTx(ctx, func(tx q) error {
			ds = nil
			o, err := scanOffer(tx.row(ctx, "SELECT "+offerCols+" FROM offers WHERE id = ?"+s.forUpdate(false), id))
			if err != nil {
				return err
			}
			if o.State != OfferPending {
				return nil // accepted or declined meanwhile
			}
			d, err := s.endOffer(ctx, tx, o, OfferTimedOut, true, now)
			if err != nil {
				return err
			}
			if err := markNotResponding(ctx, tx, o.AgentID, now); err != nil {
				return err
			}
			d.NotResponding = []string{o.AgentID}
			rest, err := s.withdrawOffers(ctx, tx, o.AgentID, "", now)
			if err != nil {
				return err
			}
			ds = append([]Decision{d}, rest...)
			return nil
		})
		if err != nil {
			return out, err
		}
		out = append(out, ds...)
	}
	return out, nil
}

// endQueued ends requests that match where (with args) and are still queued, in state, one transaction each.
func (s *Store) endQueued(ctx context.Context, state, reason, where string, args []any, now time.Time) ([]Request, error) {
	ids, err := s.strings(ctx, "SELECT r.id FROM routing_requests r WHERE r.state = 'queued' AND "+where, args...)
	if err != nil {
		return nil, err
	}
	var out []Request
	for _, id := range ids {
		var r Request
		err := s.inTx(ctx, func(tx q) error {
			var err error
			r, err = scanRequest(tx.row(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE id = ?"+s.forUpdate(false), id))
			if err != nil || r.State != RequestQueued {
				r = Request{}
				return err
			}
			if err := s.setRequestState(ctx, tx, &r, state, reason, now); err != nil {
				return err
			}
			return recordDeparture(ctx, tx, r.GroupID, r.Channel, now)
		})
		if err != nil {
			return out, err
		}
		if r.ID != "" {
			out = append(out, r)
		}
	}
	return out, nil
}

// ExpireRequests ends the queued requests that have waited past their group's maximum wait.
func (s *Store) ExpireRequests(ctx context.Context, now time.Time) ([]Request, error) {
	return s.endQueued(ctx, RequestExpired, "max_wait", "EXISTS (SELECT 1 FROM routing_groups g WHERE g.id = r.group_id AND r.enqueued_at + g.max_wait_ms <= ?)",
		[]any{ms(now)}, now)
}

// AbandonStaleRequests ends the queued requests whose visitor has not been seen since before.
func (s *Store) AbandonStaleRequests(ctx context.Context, before, now time.Time) ([]Request, error) {
	return s.endQueued(ctx, RequestAbandoned, "visitor_gone", "r.visitor_seen_at < ?", []any{ms(before)}, now)
}

// AbandonRequest ends the visitor's queued request for the conversation: they left the queue.
func (s *Store) AbandonRequest(ctx context.Context, convID, visitorID string, now time.Time) ([]Request, error) {
	return s.endQueued(ctx, RequestAbandoned, "visitor_left", "r.conversation_id = ? AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = r.conversation_id AND c.visitor_id = ?)",
		[]any{convID, visitorID}, now)
}

// TouchVisitor records that the visitor of the conversation is still there, so their place in the queue is kept.
func (s *Store) TouchVisitor(ctx context.Context, convID string, now time.Time) error {
	_, err := s.q().exec(ctx, "UPDATE routing_requests SET visitor_seen_at = ? WHERE conversation_id = ? AND state IN ('queued', 'offered')", ms(now), convID)
	return err
}

// SetETABucket remembers the wait bucket last shown for a request, so the next estimate can stick to it.
func (s *Store) SetETABucket(ctx context.Context, reqID, bucket string) error {
	_, err := s.q().exec(ctx, "UPDATE routing_requests SET eta_bucket = ? WHERE id = ?", bucket, reqID)
	return err
}

// OfflineDisconnectedAgents sets offline every agent who is not offline but has no live desk: no open connection
// seen since aliveSince, and none closed since closedSince (the grace period). Their pending offers are withdrawn.
func (s *Store) OfflineDisconnectedAgents(ctx context.Context, aliveSince, closedSince, now time.Time) ([]string, []Decision, error) {
	ids, err := s.strings(ctx, `SELECT DISTINCT p.account_id FROM presence p WHERE p.status <> 'offline' AND NOT EXISTS (
		SELECT 1 FROM desk_connections d WHERE d.account_id = p.account_id AND
		((d.closed = FALSE AND d.seen_at >= ?) OR (d.closed = TRUE AND d.seen_at >= ?)))`, ms(aliveSince), ms(closedSince))
	if err != nil {
		return nil, nil, err
	}
	var out []Decision
	for _, id := range ids {
		err := s.inTx(ctx, func(tx q) error {
			for _, ch := range []string{ChannelChat, ChannelVideo} {
				if err := setPresence(ctx, tx, id, ch, StatusOffline, now); err != nil {
					return err
				}
			}
			ds, err := s.withdrawOffers(ctx, tx, id, "", now)
			out = append(out, ds...)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return ids, out, nil
}

// Claim lets an agent take an open conversation nobody has, within their capacity: its waiting request (if any)
// is assigned to them and its pending offers end. Someone else's conversation is ErrConflict; a full agent is
// ErrAtCapacity.
func (s *Store) Claim(ctx context.Context, convID, agentID string, now time.Time) (Decision, error) {
	var d Decision
	err := s.inTx(ctx, func(tx q) error {
		d = Decision{}
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?"+s.forUpdate(false), convID))
		if err != nil {
			return err
		}
		if !canSee(ctx, tx, c.SiteID, agentID) {
			return ErrNotFound
		}
		if c.Status != StatusOpen {
			return ErrClosed
		}
		if c.AgentID != "" {
			return ErrConflict
		}
		me, eligible, err := s.lockAgent(ctx, tx, agentID, ChannelChat)
		if err != nil {
			return err
		}
		if !eligible {
			return ErrAtCapacity
		}
		r, err := scanRequest(tx.row(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE conversation_id = ? AND channel = ? AND state IN ('queued', 'offered')"+s.forUpdate(false),
			convID, ChannelChat))
		if errors.Is(err, ErrNotFound) {
			// A conversation that was refused or expired, or predates routing: it gets a request, served at once.
			var g sql.NullString
			if err := tx.row(ctx, "SELECT group_id FROM sites WHERE id = ?", c.SiteID).Scan(&g); err != nil {
				return err
			}
			r, err = insertRequest(ctx, tx, convID, ChannelChat, g.String, 0, now)
		}
		if err != nil {
			return err
		}
		pending, err := scanOffers(tx.query(ctx, "SELECT "+offerCols+" FROM offers WHERE request_id = ? AND state = ?", r.ID, OfferPending))
		if err != nil {
			return err
		}
		for _, o := range pending {
			if _, err := tx.exec(ctx, "UPDATE offers SET state = ?, ended_at = ? WHERE id = ?", OfferTaken, ms(now), o.ID); err != nil {
				return err
			}
			o.State, o.EndedAt = OfferTaken, now
			d.EndedOffers = append(d.EndedOffers, o)
		}
		app, err := s.assign(ctx, tx, &r, agentID, me.Name, now)
		if err != nil {
			return err
		}
		d.Request, d.Assigned = r, &app
		return nil
	})
	return d, err
}

// TransferPriority puts a conversation an agent handed over ahead of new arrivals in its group's queue.
const TransferPriority = 1

// Errors of a transfer to a named colleague.
var (
	// ErrNotColleague: the agent named is not an enabled member of the conversation's group, or is the agent
	// handing it over.
	ErrNotColleague = errors.New("store: not a colleague in this conversation's group")
	// ErrUnavailable: the colleague is not available for chat.
	ErrUnavailable = errors.New("store: the colleague is not available for chat")
)

// Transfer hands the agent's open conversation over, in one transaction: the agent's chat request closes (their
// slot frees up), the conversation has no agent any more, and a new chat request waits ahead of new arrivals
// (TransferPriority), with the agent excluded from it; a "transferred" event by the agent goes in the transcript.
// The queue's places don't refuse it.
//
// toAgentID "" gives it to the group: the next free colleague takes it. A colleague named in toAgentID gets it at
// once, as the group gives chats (assigned, or offered to them alone): they must be available for chat with a free
// slot (ErrUnavailable, ErrAtCapacity) and an enabled member of the group (ErrNotColleague). If they decline or miss
// the offer, the conversation waits for the group without them. The event's data names them.
//
// A conversation that is not the agent's is ErrNotFound, a closed one ErrClosed, and one with a video call under
// way, or an invitation to one waiting, ErrConflict (the call's agent must stay). On an error nothing changes.
func (s *Store) Transfer(ctx context.Context, convID, agentID, agentName, toAgentID string, now time.Time) (Decision, Appended, error) {
	var d Decision
	var out Appended
	err := s.inTx(ctx, func(tx q) error {
		d, out = Decision{}, Appended{}
		c, err := s.lockMine(ctx, tx, convID, agentID)
		if err != nil {
			return err
		}
		busy, err := videoUnderWay(ctx, tx, convID)
		if err != nil {
			return err
		}
		if busy {
			return ErrConflict // the call, or the call the visitor was invited to, is this agent's
		}
		var groupID sql.NullString
		if err := tx.row(ctx, "SELECT group_id FROM sites WHERE id = ?", c.SiteID).Scan(&groupID); err != nil {
			return notFound(err)
		}
		if groupID.String == "" {
			return ErrNotFound // nobody else could take it
		}
		var to candidate
		if toAgentID != "" {
			if to, err = s.colleagueFor(ctx, tx, groupID.String, agentID, toAgentID); err != nil {
				return err
			}
		}
		held, err := scanRequests(tx.query(ctx, "SELECT "+requestCols+" FROM routing_requests WHERE conversation_id = ? AND channel = ? AND state = ?"+s.forUpdate(false),
			convID, ChannelChat, RequestAssigned))
		if err != nil {
			return err
		}
		for i := range held {
			if err := s.setRequestState(ctx, tx, &held[i], RequestClosed, "transferred", now); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, "UPDATE conversations SET agent_id = NULL, routing = ? WHERE id = ?", RequestQueued, convID); err != nil {
			return err
		}
		r, err := insertRequest(ctx, tx, convID, ChannelChat, groupID.String, TransferPriority, now)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, "INSERT INTO routing_exclusions (request_id, agent_id) VALUES (?, ?)", r.ID, agentID); err != nil {
			return err
		}
		e := Event{ConversationID: convID, Type: EventTransferred, Author: AuthorAgent, AuthorID: agentID, AuthorName: agentName, CreatedAt: now}
		if to.ID != "" {
			e.Data = transferData(to)
		}
		if err := appendEvent(ctx, tx, &e); err != nil {
			return err
		}
		c.AgentID, c.LastSeq, c.UpdatedAt = "", e.Seq, now
		out = Appended{Conversation: c, Events: []Event{e}}
		d.Request = r
		if to.ID == "" {
			return nil
		}
		g, err := scanGroup(tx.row(ctx, "SELECT "+groupCols+" FROM routing_groups WHERE id = ?", groupID.String))
		if err != nil {
			return err
		}
		if g.ChatMode == ChatAssign {
			app, err := s.assignTo(ctx, tx, &r, to.ID, to.Name, now, false)
			if err != nil {
				return err
			}
			d.Request, d.Assigned = r, &app
			return nil
		}
		o, err := s.insertOffer(ctx, tx, r, to.ID, now.Add(g.OfferTimeout), now)
		if err != nil {
			return err
		}
		d.NewOffers = []Offer{o}
		r.Attempts++
		if err := s.setRequestState(ctx, tx, &r, RequestOffered, "", now); err != nil {
			return err
		}
		d.Request = r
		return nil
	})
	return d, out, err
}

// colleagueFor locks and checks the colleague a conversation is transferred to: an enabled member of the group,
// not the agent handing it over, available for chat, with a free slot.
func (s *Store) colleagueFor(ctx context.Context, tx q, groupID, fromID, toID string) (candidate, error) {
	if toID == fromID {
		return candidate{}, ErrNotColleague
	}
	var n int
	if err := tx.row(ctx, `SELECT COUNT(*) FROM group_members m JOIN accounts a ON a.id = m.account_id
		WHERE m.group_id = ? AND m.account_id = ? AND a.disabled = FALSE`, groupID, toID).Scan(&n); err != nil {
		return candidate{}, err
	}
	if n == 0 {
		return candidate{}, ErrNotColleague
	}
	to, eligible, err := s.lockAgent(ctx, tx, toID, ChannelChat)
	if err != nil {
		return candidate{}, err
	}
	p, err := presenceOf(ctx, tx, toID)
	if err != nil {
		return candidate{}, err
	}
	if p.Chat != StatusAvailable {
		return candidate{}, ErrUnavailable
	}
	if !eligible {
		return candidate{}, ErrAtCapacity
	}
	return to, nil
}

// transferData is a "transferred" event's data when it names the colleague.
func transferData(to candidate) string {
	b, _ := json.Marshal(map[string]string{"to_agent_id": to.ID, "to_name": to.Name})
	return string(b)
}

// insertOffer rings the request on one agent's desk until deadline.
func (s *Store) insertOffer(ctx context.Context, tx q, r Request, agentID string, deadline, now time.Time) (Offer, error) {
	o := Offer{ID: NewID("of"), RequestID: r.ID, AgentID: agentID, ConversationID: r.ConversationID, Channel: r.Channel,
		State: OfferPending, CreatedAt: now, Deadline: deadline}
	_, err := tx.exec(ctx, "INSERT INTO offers ("+offerCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
		o.ID, o.RequestID, o.AgentID, o.ConversationID, o.Channel, o.State, ms(now), ms(o.Deadline))
	return o, err
}

// Colleague is an agent a conversation could be transferred to, as the desk lists them.
type Colleague struct {
	ID, Name string
	// Chat is their chat presence; InCall is true while a video call (or one ringing) takes their capacity.
	Chat   string
	InCall bool
	// FreeSlots is how many more chats they can take now (0 when not available for chat).
	FreeSlots int
}

// Colleagues lists the enabled members of the agent's open conversation's group, other than the agent, by name,
// for a transfer. A conversation that is not the agent's is ErrNotFound, a closed one ErrClosed.
func (s *Store) Colleagues(ctx context.Context, convID, agentID string) ([]Colleague, error) {
	c, err := mine(ctx, s.q(), convID, agentID)
	if err != nil {
		return nil, err
	}
	var groupID sql.NullString
	if err := s.q().row(ctx, "SELECT group_id FROM sites WHERE id = ?", c.SiteID).Scan(&groupID); err != nil {
		return nil, notFound(err)
	}
	cs, err := scanCandidates(s.q().query(ctx, candidateSelect+`JOIN group_members m ON m.account_id = a.id AND m.group_id = ?
		WHERE a.disabled = FALSE AND a.id <> ?`, groupID.String, agentID))
	if err != nil {
		return nil, err
	}
	status := map[string]string{}
	rows, err := s.q().query(ctx, `SELECT p.account_id, p.status FROM presence p JOIN group_members m ON m.account_id = p.account_id
		WHERE m.group_id = ? AND p.channel = ?`, groupID.String, ChannelChat)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, err
		}
		status[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Colleague, 0, len(cs))
	for _, a := range cs {
		col := Colleague{ID: a.ID, Name: a.Name, Chat: cmp.Or(status[a.ID], StatusOffline), InCall: a.VideoBusy > 0}
		if col.Chat == StatusAvailable && a.eligible(ChannelChat) {
			col.FreeSlots = a.Capacity - a.ChatLoad
		}
		out = append(out, col)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// EndConversationRequests settles a conversation's requests when it closes: an assigned one is closed (and its
// handling time feeds the group's average), a waiting one is cancelled and its offers withdrawn.
func (s *Store) EndConversationRequests(ctx context.Context, convID string, now time.Time) ([]Decision, error) {
	return s.endRequests(ctx, convID, "", RequestCancelled, "conversation_ended", now)
}

// Unsettled is routing left live after what it served ended: the requests of a conversation that closed
// (Channel empty: all of its requests), or the video request of a call that ended (Channel "video"). At is when
// that happened.
type Unsettled struct {
	ConversationID string
	Channel        string
	At             time.Time
}

// UnsettledRequests lists what an end stopped halfway left live: a conversation closed, or a call ended, while a
// request of theirs is still queued, offered or assigned (the process stopped between the two steps, or the
// database failed the second).
func (s *Store) UnsettledRequests(ctx context.Context) ([]Unsettled, error) {
	rows, err := s.q().query(ctx, `SELECT DISTINCT c.id, '', c.closed_at FROM routing_requests r JOIN conversations c ON c.id = r.conversation_id
		WHERE r.state IN ('queued', 'offered', 'assigned') AND c.status = ?
		UNION SELECT r.conversation_id, r.channel, k.ended_at FROM routing_requests r JOIN calls k ON k.request_id = r.id
		WHERE r.channel = ? AND r.state IN ('queued', 'offered', 'assigned') AND k.ended_at > 0`, StatusClosed, ChannelVideo)
	return scanAll(rows, err, func(rows interface{ Scan(...any) error }) (Unsettled, error) {
		var u Unsettled
		var at sql.NullInt64
		err := rows.Scan(&u.ConversationID, &u.Channel, &at)
		u.At = fromMS(at.Int64)
		return u, err
	})
}

// EndChannelRequests settles a conversation's requests on one channel, as EndConversationRequests does: a video
// call that ended while the chat goes on. A request still waiting ends in waitingState with reason.
func (s *Store) EndChannelRequests(ctx context.Context, convID, channel, waitingState, reason string, now time.Time) ([]Decision, error) {
	return s.endRequests(ctx, convID, channel, waitingState, reason, now)
}

func (s *Store) endRequests(ctx context.Context, convID, channel, waitingState, reason string, now time.Time) ([]Decision, error) {
	var out []Decision
	err := s.inTx(ctx, func(tx q) error {
		out = nil
		query, args := "SELECT "+requestCols+" FROM routing_requests WHERE conversation_id = ? AND state IN ('queued', 'offered', 'assigned')", []any{convID}
		if channel != "" {
			query, args = query+" AND channel = ?", append(args, channel)
		}
		reqs, err := scanRequests(tx.query(ctx, query+s.forUpdate(false), args...))
		if err != nil {
			return err
		}
		for _, r := range reqs {
			d := Decision{}
			if r.State == RequestAssigned {
				if err := s.setRequestState(ctx, tx, &r, RequestClosed, "", now); err != nil {
					return err
				}
				if err := recordSample(ctx, tx, r.GroupID, r.Channel, "aht", float64(now.Sub(r.AssignedAt).Milliseconds())); err != nil {
					return err
				}
			} else {
				pending, err := scanOffers(tx.query(ctx, "SELECT "+offerCols+" FROM offers WHERE request_id = ? AND state = ?", r.ID, OfferPending))
				if err != nil {
					return err
				}
				for _, o := range pending {
					if _, err := tx.exec(ctx, "UPDATE offers SET state = ?, ended_at = ? WHERE id = ?", OfferWithdrawn, ms(now), o.ID); err != nil {
						return err
					}
					o.State, o.EndedAt = OfferWithdrawn, now
					d.EndedOffers = append(d.EndedOffers, o)
				}
				if err := s.setRequestState(ctx, tx, &r, waitingState, reason, now); err != nil {
					return err
				}
			}
			d.Request = r
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// PendingOffers lists an agent's ringing offers.
func (s *Store) PendingOffers(ctx context.Context, agentID string) ([]Offer, error) {
	return scanOffers(s.q().query(ctx, "SELECT "+offerCols+" FROM offers WHERE agent_id = ? AND state = ? ORDER BY created_at", agentID, OfferPending))
}

// QueuedGroups lists the (group, channel) pairs with someone waiting.
func (s *Store) QueuedGroups(ctx context.Context) ([][2]string, error) {
	rows, err := s.q().query(ctx, "SELECT DISTINCT group_id, channel FROM routing_requests WHERE state = 'queued'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var g, ch string
		if err := rows.Scan(&g, &ch); err != nil {
			return nil, err
		}
		out = append(out, [2]string{g, ch})
	}
	return out, rows.Err()
}

// Capacity is a group's serving power on a channel, for the estimated wait.
type Capacity struct {
	// Free is the number of slots open right now among available agents.
	Free int
	// Serving is the number of slots of available agents, each agent's slots divided by their number of groups.
	Serving float64
	// Online counts the group's agents available on the channel.
	Online int
	// ByAgent is each available agent's share of Free and Serving, so that a request some of them may not take
	// (Without) is estimated on the others.
	ByAgent map[string]Capacity
}

// Without is the capacity left for a request the given agents are excluded from (they declined it, missed it, or
// handed it over).
func (c Capacity) Without(agents map[string]bool) Capacity {
	out := Capacity{Free: c.Free, Serving: c.Serving, Online: c.Online}
	for id := range agents {
		if a, ok := c.ByAgent[id]; ok {
			out.Free -= a.Free
			out.Serving -= a.Serving
			out.Online -= a.Online
		}
	}
	return out
}

// QueueExclusions lists, for each request waiting in a group's queue on a channel, the agents excluded from it.
// Requests nobody is excluded from are left out.
func (s *Store) QueueExclusions(ctx context.Context, groupID, channel string) (map[string]map[string]bool, error) {
	rows, err := s.q().query(ctx, `SELECT x.request_id, x.agent_id FROM routing_exclusions x JOIN routing_requests r ON r.id = x.request_id
		WHERE r.group_id = ? AND r.channel = ? AND r.state = ?`, groupID, channel, RequestQueued)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]bool{}
	for rows.Next() {
		var req, agent string
		if err := rows.Scan(&req, &agent); err != nil {
			return nil, err
		}
		if out[req] == nil {
			out[req] = map[string]bool{}
		}
		out[req][agent] = true
	}
	return out, rows.Err()
}

// GroupCapacity measures a group's capacity on a channel.
func (s *Store) GroupCapacity(ctx context.Context, groupID, channel string) (Capacity, error) {
	cs, err := scanCandidates(s.q().query(ctx, candidateSelect+`
		JOIN group_members m ON m.account_id = a.id AND m.group_id = ?
		JOIN presence p ON p.account_id = a.id AND p.channel = ? AND p.status = 'available'
		WHERE a.disabled = FALSE`, groupID, channel))
	if err != nil {
		return Capacity{}, err
	}
	c := Capacity{ByAgent: map[string]Capacity{}}
	groupsOf := map[string]int{}
	rows, err := s.q().query(ctx, `SELECT m.account_id, COUNT(*) FROM group_members m WHERE m.account_id IN
		(SELECT account_id FROM group_members WHERE group_id = ?) GROUP BY m.account_id`, groupID)
	if err != nil {
		return Capacity{}, err
	}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return Capacity{}, err
		}
		groupsOf[id] = n
	}
	rows.Close()
	for _, a := range cs {
		groups := groupsOf[a.ID]
		slots := a.Capacity
		if channel == ChannelVideo {
			slots = 1
		}
		mine := Capacity{Online: 1, Serving: float64(slots) / float64(max(groups, 1))}
		if a.eligible(channel) {
			if channel == ChannelVideo {
				mine.Free = 1
			} else {
				mine.Free = a.Capacity - a.ChatLoad
			}
		}
		c.Online += mine.Online
		c.Serving += mine.Serving
		c.Free += mine.Free
		c.ByAgent[a.ID] = mine
	}
	return c, nil
}

// Averages are a group's running averages on a channel.
type Averages struct {
	AHT, ACC               time.Duration
	AHTSamples, ACCSamples int
	// ADV is the average time between two departures from the queue while it is busy.
	ADV        time.Duration
	ADVSamples int
}

// ewmaWeight is how much one new sample moves a running average. Handling times vary as much as their mean, so
// their average moves slowly (`parley simulate` measured a median 17-25% error of the average at 0.2, which went
// straight into the estimated waits); times to accept are steadier.
func ewmaWeight(kind string) float64 {
	if kind == "aht" {
		return 0.05
	}
	return 0.2
}

func recordSample(ctx context.Context, tx q, groupID, channel, kind string, value float64) error {
	col, n := kind+"_ms", kind+"_samples"
	// The first sample is the average; after that each moves it by its weight.
	w := ewmaWeight(kind)
	return tx.atEnd(func(tx q) error {
		return updateStats(ctx, tx, groupID, channel, fmt.Sprintf(`UPDATE routing_stats SET %[1]s = CASE WHEN %[2]s = 0 THEN ? ELSE %[1]s * ? + ? END,
		%[2]s = %[2]s + 1 WHERE group_id = ? AND channel = ?`, col, n), value, 1-w, w*value, groupID, channel)
	})
}

// updateStats runs an update of a queue's routing_stats row, creating the row the first time the queue has one.
func updateStats(ctx context.Context, tx q, groupID, channel, update string, args ...any) error {
	res, err := tx.exec(ctx, update, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	if _, err := tx.exec(ctx, "INSERT INTO routing_stats (group_id, channel) VALUES (?, ?) ON CONFLICT DO NOTHING", groupID, channel); err != nil {
		return err
	}
	_, err = tx.exec(ctx, update, args...)
	return err
}

// advWeight is how much one departure moves the queue's advance average.
const advWeight = 0.05

// recordDeparture notes that a request left its queue at now (assigned, abandoned or expired). When the previous
// departure happened while others waited, the time since then is a sample of how fast the queue advances; it
// captures handling times, abandonments, declines and missed offers alike. A queue left empty starts afresh.
func recordDeparture(ctx context.Context, tx q, groupID, channel string, now time.Time) error {
	// One statement, at the end of the transaction: the time since the last departure is a sample when there was
	// one (adv_last_at above 0), and the clock restarts from now if others still wait, or stops (0) if none do.
	t := ms(now)
	return tx.atEnd(func(tx q) error {
		return updateStats(ctx, tx, groupID, channel, `UPDATE routing_stats SET
			adv_ms = CASE WHEN adv_last_at = 0 OR ? < adv_last_at THEN adv_ms WHEN adv_samples = 0 THEN ? - adv_last_at
				ELSE adv_ms * CAST(? AS DOUBLE PRECISION) + CAST(? AS DOUBLE PRECISION) * (? - adv_last_at) END,
			adv_samples = adv_samples + CASE WHEN adv_last_at = 0 OR ? < adv_last_at THEN 0 ELSE 1 END,
			adv_last_at = CASE WHEN EXISTS (SELECT 1 FROM routing_requests WHERE group_id = ? AND channel = ? AND state IN ('queued', 'offered'))
				THEN CAST(? AS BIGINT) ELSE 0 END
			WHERE group_id = ? AND channel = ?`, t, t, 1-advWeight, advWeight, t, t, groupID, channel, t, groupID, channel)
	})
}

// GroupAverages returns a group's running averages on a channel.
func (s *Store) GroupAverages(ctx context.Context, groupID, channel string) (Averages, error) {
	var a Averages
	var aht, acc, adv float64
	err := s.q().row(ctx, "SELECT aht_ms, aht_samples, acc_ms, acc_samples, adv_ms, adv_samples FROM routing_stats WHERE group_id = ? AND channel = ?", groupID, channel).
		Scan(&aht, &a.AHTSamples, &acc, &a.ACCSamples, &adv, &a.ADVSamples)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	a.AHT, a.ACC, a.ADV = time.Duration(aht)*time.Millisecond, time.Duration(acc)*time.Millisecond, time.Duration(adv)*time.Millisecond
	return a, err
}

// RecentWaits returns the waits (enqueue to assignment) of the group's requests on a channel assigned since since.
func (s *Store) RecentWaits(ctx context.Context, groupID, channel string, since time.Time) ([]time.Duration, error) {
	rows, err := s.q().query(ctx, "SELECT assigned_at - enqueued_at FROM routing_requests WHERE group_id = ? AND channel = ? AND assigned_at >= ?",
		groupID, channel, ms(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, time.Duration(v)*time.Millisecond)
	}
	return out, rows.Err()
}

// GroupPresence counts a group's enabled agents by their status on a channel.
func (s *Store) GroupPresence(ctx context.Context, groupID, channel string) (map[string]int, error) {
	rows, err := s.q().query(ctx, `SELECT COALESCE(p.status, 'offline') FROM group_members m JOIN accounts a ON a.id = m.account_id
		LEFT JOIN presence p ON p.account_id = m.account_id AND p.channel = ? WHERE m.group_id = ? AND a.disabled = FALSE`, channel, groupID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{StatusAvailable: 0, StatusAway: 0, StatusOffline: 0, StatusNotResponding: 0}
	for rows.Next() {
		var st string
		if err := rows.Scan(&st); err != nil {
			return nil, err
		}
		out[st]++
	}
	return out, rows.Err()
}

// SetContact keeps the e-mail address a visitor left with a message.
func (s *Store) SetContact(ctx context.Context, convID, visitorID, email string) error {
	res, err := s.q().exec(ctx, "UPDATE conversations SET contact_email = ? WHERE id = ? AND visitor_id = ?", email, convID, visitorID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
