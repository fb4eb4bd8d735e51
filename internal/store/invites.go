package store

import (
	"context"
	"database/sql"
	"time"
)

// Invitation states.
const (
	InvitePending  = "pending"  // waiting for the visitor's answer
	InviteAccepted = "accepted" // the visitor said yes and is in the lobby
	InviteDeclined = "declined"
	InviteExpired  = "expired"
	InviteUsed     = "used"      // the visitor joined: the call exists
	InviteCanceled = "cancelled" // the conversation ended first
)

// Invite is an agent's invitation to a conversation's visitor to move into a video call with them.
type Invite struct {
	ID             string
	ConversationID string
	VisitorID      string
	AgentID        string
	AgentName      string
	Auto           bool
	State          string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

const inviteSelect = `SELECT i.id, i.conversation_id, c.visitor_id, i.agent_id, a.name, i.auto, i.state, i.created_at, i.expires_at
	FROM call_invites i JOIN conversations c ON c.id = i.conversation_id JOIN accounts a ON a.id = i.agent_id `

func scanInvite(sc interface{ Scan(...any) error }) (Invite, error) {
	var i Invite
	var created, expires int64
	if err := sc.Scan(&i.ID, &i.ConversationID, &i.VisitorID, &i.AgentID, &i.AgentName, &i.Auto, &i.State, &created, &expires); err != nil {
		return Invite{}, notFound(err)
	}
	i.CreatedAt, i.ExpiresAt = fromMS(created), fromMS(expires)
	return i, nil
}

// Invite returns an invitation by id.
func (s *Store) Invite(ctx context.Context, id string) (Invite, error) {
	return scanInvite(s.q().row(ctx, inviteSelect+"WHERE i.id = ?", id))
}

// LiveInvite returns the conversation's invitation that is pending or accepted, or ErrNotFound.
func (s *Store) LiveInvite(ctx context.Context, convID string) (Invite, error) {
	return scanInvite(s.q().row(ctx, inviteSelect+"WHERE i.conversation_id = ? AND i.state IN ('pending', 'accepted')", convID))
}

func scanInvites(rows *sql.Rows, err error) ([]Invite, error) { return scanAll(rows, err, scanInvite) }

// AgentInvites lists an agent's invitations that are pending or accepted.
func (s *Store) AgentInvites(ctx context.Context, agentID string) ([]Invite, error) {
	return scanInvites(s.q().query(ctx, inviteSelect+"WHERE i.agent_id = ? AND i.state IN ('pending', 'accepted') ORDER BY i.created_at", agentID))
}

// videoUnderWay reports whether a conversation has a video call under way (queued, ringing or live) or an
// invitation to one that the visitor has not yet turned down or used.
func videoUnderWay(ctx context.Context, tx q, convID string) (bool, error) {
	var n int
	err := tx.row(ctx, `SELECT (SELECT COUNT(*) FROM calls WHERE conversation_id = ? AND ended_at = 0)
		+ (SELECT COUNT(*) FROM call_invites WHERE conversation_id = ? AND state IN ('pending', 'accepted'))`, convID, convID).Scan(&n)
	return n > 0, err
}

// CreateInvite records the agent's invitation to the visitor of a conversation assigned to them. state is
// InvitePending (the visitor is asked) or InviteAccepted (auto: a bot's handover to video; the visitor goes to the
// lobby at once). A conversation that is not the agent's is ErrNotFound, a closed one ErrClosed; one with a call
// under way or an invitation waiting is ErrConflict.
func (s *Store) CreateInvite(ctx context.Context, convID, agentID, state string, auto bool, now, expires time.Time) (Invite, error) {
	id := NewID("iv")
	err := s.inTx(ctx, func(tx q) error {
		if _, err := s.lockMine(ctx, tx, convID, agentID); err != nil {
			return err
		}
		busy, err := videoUnderWay(ctx, tx, convID)
		if err != nil {
			return err
		}
		if busy {
			return ErrConflict
		}
		_, err = tx.exec(ctx, "INSERT INTO call_invites (id, conversation_id, agent_id, auto, state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			id, convID, agentID, auto, state, ms(now), ms(expires))
		if isUnique(err) {
			return ErrConflict
		}
		return err
	})
	if err != nil {
		return Invite{}, err
	}
	return s.Invite(ctx, id)
}

// AnswerInvite records the visitor's answer to a pending invitation. Accepted, it now waits until expires for the
// visitor to join from the lobby. Another visitor's invitation is ErrNotFound; one no longer pending, or past its
// time, is ErrConflict.
func (s *Store) AnswerInvite(ctx context.Context, inviteID, visitorID string, accept bool, now, expires time.Time) (Invite, error) {
	state := InviteDeclined
	if accept {
		state = InviteAccepted
	}
	i, err := s.Invite(ctx, inviteID)
	if err != nil || i.VisitorID != visitorID {
		return Invite{}, ErrNotFound
	}
	var endedAt int64 // an accepted invitation lives on until the visitor joins
	if !accept {
		expires, endedAt = now, ms(now)
	}
	res, err := s.q().exec(ctx, "UPDATE call_invites SET state = ?, expires_at = ?, ended_at = ? WHERE id = ? AND state = 'pending' AND expires_at > ?",
		state, ms(expires), endedAt, inviteID, ms(now))
	if err != nil {
		return Invite{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Invite{}, ErrConflict
	}
	return s.Invite(ctx, inviteID)
}

// ExpireInvites ends the invitations past their time, and those of conversations that closed.
func (s *Store) ExpireInvites(ctx context.Context, now time.Time) ([]Invite, error) {
	var out []Invite
	err := s.inTx(ctx, func(tx q) error {
		out = nil
		ended, err := scanInvites(tx.query(ctx, inviteSelect+`WHERE i.state IN ('pending', 'accepted') AND (i.expires_at <= ? OR c.status <> 'open')`+s.forUpdate(false), ms(now)))
		if err != nil {
			return err
		}
		for _, i := range ended {
			state := InviteExpired
			if now.Before(i.ExpiresAt) {
				state = InviteCanceled // not past its time: its conversation closed
			}
			if _, err := tx.exec(ctx, "UPDATE call_invites SET state = ?, ended_at = ? WHERE id = ?", state, ms(now), i.ID); err != nil {
				return err
			}
			i.State = state
			out = append(out, i)
		}
		return nil
	})
	return out, err
}

// CreateInvitedCall starts the call an invitation leads to: the visitor, in the lobby, joins. The invitation must
// be the visitor's, for this conversation, pending or accepted and not past its time; it is used up. A call after
// an earlier one is allowed: an invitation is how video starts again. It returns the call and the invitation.
func (s *Store) CreateInvitedCall(ctx context.Context, convID, visitorID, inviteID string, now time.Time) (Call, Invite, error) {
	id := NewID("ca")
	var inv Invite
	err := s.inTx(ctx, func(tx q) error {
		var err error
		inv, err = scanInvite(tx.row(ctx, inviteSelect+"WHERE i.id = ?", inviteID))
		if err != nil || inv.VisitorID != visitorID || inv.ConversationID != convID {
			return ErrNotFound
		}
		if (inv.State != InvitePending && inv.State != InviteAccepted) || !now.Before(inv.ExpiresAt) {
			return ErrConflict
		}
		c, err := scanConv(tx.row(ctx, "SELECT "+convCols+" FROM conversations WHERE id = ?"+s.forUpdate(false), convID))
		if err != nil {
			return err
		}
		if c.Status != StatusOpen {
			return ErrClosed
		}
		if _, err := tx.exec(ctx, "UPDATE call_invites SET state = ?, ended_at = ? WHERE id = ?", InviteUsed, ms(now), inviteID); err != nil {
			return err
		}
		inv.State = InviteUsed
		_, err = tx.exec(ctx, "INSERT INTO calls (id, conversation_id, visitor_id, created_at) VALUES (?, ?, ?, ?)", id, convID, visitorID, ms(now))
		if isUnique(err) {
			return ErrConflict
		}
		return err
	})
	if err != nil {
		return Call{}, Invite{}, err
	}
	c, err := s.Call(ctx, id)
	return c, inv, err
}

// SetVideoOnAssign marks a conversation to move into video with the first agent who takes it (a bot's handover).
func (s *Store) SetVideoOnAssign(ctx context.Context, convID string, on bool) error {
	_, err := s.q().exec(ctx, "UPDATE conversations SET video_on_assign = ? WHERE id = ?", on, convID)
	return err
}

// TakeVideoOnAssign clears the conversation's mark and reports whether it was set: only one caller gets true.
func (s *Store) TakeVideoOnAssign(ctx context.Context, convID string) (bool, error) {
	res, err := s.q().exec(ctx, "UPDATE conversations SET video_on_assign = FALSE WHERE id = ? AND video_on_assign = TRUE", convID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
