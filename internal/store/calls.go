package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Call states, derived from the call's own row and its routing request.
const (
	CallQueued  = "queued"
	CallRinging = "ringing"
	CallLive    = "live"
	CallEnded   = "ended"
)

// Conversation events about calls.
const (
	EventCallStarted = "call_started"
	EventCallEnded   = "call_ended"
)

// ErrVideoUsed means the conversation already had a video call: the visitor can't start another one by themselves.
var ErrVideoUsed = errors.New("store: this conversation already had a video call")

// Call is a video call inside a conversation.
type Call struct {
	ID             string
	ConversationID string
	VisitorID      string
	SiteID         string
	RequestID      string
	AgentID        string
	AgentName      string
	// NodeID is the node whose relay carries the call's media ("" until a side connects).
	NodeID        string
	State         string
	CreatedAt     time.Time
	AnsweredAt    time.Time
	EndedAt       time.Time
	EndedBy       string
	Reason        string
	VisitorCamera bool
	VisitorMic    bool
	AgentCamera   bool
	AgentMic      bool
	// Quality is the call-quality record, as JSON, once the call has ended.
	Quality string
}

const callSelect = `SELECT c.id, c.conversation_id, c.visitor_id, v.site_id, COALESCE(c.request_id, ''), COALESCE(c.agent_id, ''),
	COALESCE(a.name, ''), c.node_id, COALESCE(r.state, ''), c.created_at, c.answered_at, c.ended_at, c.ended_by, c.reason,
	c.visitor_camera, c.visitor_mic, c.agent_camera, c.agent_mic, c.quality
	FROM calls c
	JOIN conversations v ON v.id = c.conversation_id
	LEFT JOIN accounts a ON a.id = c.agent_id
	LEFT JOIN routing_requests r ON r.id = c.request_id `

func scanCall(sc interface{ Scan(...any) error }) (Call, error) {
	var c Call
	var created, answered, ended int64
	var reqState string
	if err := sc.Scan(&c.ID, &c.ConversationID, &c.VisitorID, &c.SiteID, &c.RequestID, &c.AgentID, &c.AgentName, &c.NodeID, &reqState,
		&created, &answered, &ended, &c.EndedBy, &c.Reason, &c.VisitorCamera, &c.VisitorMic, &c.AgentCamera, &c.AgentMic, &c.Quality); err != nil {
		return Call{}, notFound(err)
	}
	c.CreatedAt = fromMS(created)
	if answered > 0 {
		c.AnsweredAt = fromMS(answered)
	}
	if ended > 0 {
		c.EndedAt = fromMS(ended)
	}
	switch {
	case ended > 0:
		c.State = CallEnded
	case answered > 0:
		c.State = CallLive
	case reqState == RequestOffered:
		c.State = CallRinging
	default:
		c.State = CallQueued
	}
	return c, nil
}

func scanCalls(rows *sql.Rows, err error) ([]Call, error) {
	return scanAll(rows, err, scanCall)
}

// CreateCall starts a video call in the visitor's open conversation. A call already under way is ErrConflict; a
// conversation that already had a call answered is ErrVideoUsed; someone else's or a closed conversation is
// ErrNotFound or ErrClosed.
func (s *Store) CreateCall(ctx context.Context, convID, visitorID string, now time.Time) (Call, error) {
	id := NewID("ca")
	err := s.inTx(ctx, func(tx q) error {
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?"+s.forUpdate(false), convID))
		if err != nil {
			return err
		}
		if c.VisitorID != visitorID {
			return ErrNotFound
		}
		if c.Status != StatusOpen {
			return ErrClosed
		}
		var live, answered int
		if err := tx.row(ctx, "SELECT COUNT(CASE WHEN ended_at = 0 THEN 1 END), COUNT(CASE WHEN answered_at > 0 THEN 1 END) FROM calls WHERE conversation_id = ?",
			convID).Scan(&live, &answered); err != nil {
			return err
		}
		if live > 0 {
			return ErrConflict
		}
		if answered > 0 {
			return ErrVideoUsed
		}
		_, err = tx.exec(ctx, "INSERT INTO calls (id, conversation_id, visitor_id, created_at) VALUES (?, ?, ?, ?)", id, convID, visitorID, ms(now))
		if isUnique(err) {
			return ErrConflict
		}
		return err
	})
	if err != nil {
		return Call{}, err
	}
	return s.Call(ctx, id)
}

// Call returns a call by id.
func (s *Store) Call(ctx context.Context, id string) (Call, error) {
	return scanCall(s.q().row(ctx, callSelect+"WHERE c.id = ?", id))
}

// LiveCall returns the conversation's call under way (not ended), or ErrNotFound.
func (s *Store) LiveCall(ctx context.Context, convID string) (Call, error) {
	return scanCall(s.q().row(ctx, callSelect+"WHERE c.conversation_id = ? AND c.ended_at = 0", convID))
}

// VideoUsed reports whether the conversation already had a call that was answered.
func (s *Store) VideoUsed(ctx context.Context, convID string) (bool, error) {
	var n int
	err := s.q().row(ctx, "SELECT COUNT(*) FROM calls WHERE conversation_id = ? AND answered_at > 0", convID).Scan(&n)
	return n > 0, err
}

// AgentCalls lists the calls under way that an agent answered.
func (s *Store) AgentCalls(ctx context.Context, agentID string) ([]Call, error) {
	return scanCalls(s.q().query(ctx, callSelect+"WHERE c.agent_id = ? AND c.ended_at = 0 ORDER BY c.created_at", agentID))
}

// LiveCalls lists every call that was answered and has not ended.
func (s *Store) LiveCalls(ctx context.Context) ([]Call, error) {
	return scanCalls(s.q().query(ctx, callSelect+"WHERE c.answered_at > 0 AND c.ended_at = 0 ORDER BY c.created_at"))
}

// PinCall makes nodeID the node that relays the call's media, unless one already does, and returns the node that
// does.
func (s *Store) PinCall(ctx context.Context, callID, nodeID string) (string, error) {
	if _, err := s.q().exec(ctx, "UPDATE calls SET node_id = ? WHERE id = ? AND node_id = ''", nodeID, callID); err != nil {
		return "", err
	}
	var node string
	err := s.q().row(ctx, "SELECT node_id FROM calls WHERE id = ?", callID).Scan(&node)
	return node, notFound(err)
}

// StaleCalls lists the calls answered before since that no relay has carried (no side ever connected).
func (s *Store) StaleCalls(ctx context.Context, since time.Time) ([]Call, error) {
	return scanCalls(s.q().query(ctx, callSelect+"WHERE c.answered_at > 0 AND c.answered_at < ? AND c.ended_at = 0 AND c.node_id = ''", ms(since)))
}

// LinkCallRequest records the routing request that looks for the call's agent.
func (s *Store) LinkCallRequest(ctx context.Context, callID, reqID string) error {
	_, err := s.q().exec(ctx, "UPDATE calls SET request_id = ? WHERE id = ? AND (request_id IS NULL OR request_id <> ?)", reqID, callID, reqID)
	return err
}

// AnswerCall records that the agent took the call, with a call_started event. changed is false when the call was
// already answered or has ended; nothing is written then.
func (s *Store) AnswerCall(ctx context.Context, callID, agentID, agentName string, now time.Time) (Call, Appended, bool, error) {
	return s.updateCall(ctx, callID, "UPDATE calls SET answered_at = ?, agent_id = ? WHERE id = ? AND answered_at = 0 AND ended_at = 0",
		[]any{ms(now), agentID, callID}, func(Call) *Event {
			return &Event{Type: EventCallStarted, Author: AuthorSystem, AuthorID: agentID, AuthorName: agentName, CreatedAt: now}
		})
}

// EndCall ends a call. A call that was answered gets a call_ended event whose data is quality (the call-quality
// record, as JSON). changed is false when the call had already ended; nothing is written then.
func (s *Store) EndCall(ctx context.Context, callID, endedBy, reason, quality string, now time.Time) (Call, Appended, bool, error) {
	return s.updateCall(ctx, callID, "UPDATE calls SET ended_at = ?, ended_by = ?, reason = ?, quality = ? WHERE id = ? AND ended_at = 0",
		[]any{ms(now), endedBy, reason, quality, callID}, func(c Call) *Event {
			if c.AnsweredAt.IsZero() {
				return nil // a call that never started leaves nothing in the transcript
			}
			return &Event{Type: EventCallEnded, Author: AuthorSystem, AuthorName: c.AgentName, CreatedAt: now, Data: quality}
		})
}

// updateCall runs update (which must change one row, or none when the call is past that point) and, when it
// changed the call, appends the event that event makes of it (if any) to its conversation, in one transaction.
func (s *Store) updateCall(ctx context.Context, callID, update string, args []any, event func(Call) *Event) (call Call, app Appended, changed bool, err error) {
	err = s.inTx(ctx, func(tx q) error {
		app, changed = Appended{}, false
		res, err := tx.exec(ctx, update, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		changed = true
		c, err := scanCall(tx.row(ctx, callSelect+"WHERE c.id = ?", callID))
		if err != nil {
			return err
		}
		e := event(c)
		if e == nil {
			return nil
		}
		e.ConversationID = c.ConversationID
		if err := appendEvent(ctx, tx, e); err != nil {
			return err
		}
		conv, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?", c.ConversationID))
		if err != nil {
			return err
		}
		app = Appended{Conversation: conv, Events: []Event{*e}}
		return nil
	})
	if err == nil {
		call, err = s.Call(ctx, callID)
	}
	return call, app, changed, err
}

// SetCallMedia records one side's camera and microphone state.
func (s *Store) SetCallMedia(ctx context.Context, callID string, agentSide, camera, mic bool) error {
	query := "UPDATE calls SET visitor_camera = ?, visitor_mic = ? WHERE id = ? AND ended_at = 0"
	if agentSide {
		query = "UPDATE calls SET agent_camera = ?, agent_mic = ? WHERE id = ? AND ended_at = 0"
	}
	res, err := s.q().exec(ctx, query, camera, mic, callID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrClosed
	}
	return nil
}
