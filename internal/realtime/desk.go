package realtime

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/parley/parley/internal/call"
	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/notify"
	"github.com/parley/parley/internal/routing"
	"github.com/parley/parley/internal/store"
)

// deskConn is an agent's desk: the conversations assigned to them and those waiting in their groups, their
// presence and their offers.
type deskConn struct {
	hub       *Hub
	account   store.Account
	sessionID string
	connID    string
}

type accountView struct {
	ID         string `json:"id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	Role       string `json:"role"`
	Supervisor bool   `json:"supervisor"`
	// CanEscalate: the desk shows "Escalate to video" in the agent's chats.
	CanEscalate bool `json:"can_escalate"`
}

type deskWelcome struct {
	Account  accountView         `json:"account"`
	Presence notify.PresenceView `json:"presence"`
	Offers   []notify.OfferView  `json:"offers"`
	Calls    []notify.CallView   `json:"calls"`
	Invites  []notify.InviteView `json:"invites"`
}

type convAck struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq,omitempty"`
}

// ServeDesk serves a desk socket for an authenticated session. The caller has checked the cookie and the origin.
func (h *Hub) ServeDesk(w http.ResponseWriter, r *http.Request, account store.Account, sessionID string) {
	ws, err := h.accept(w, r)
	if err != nil {
		return
	}
	env, hello, ok := h.readHello(ws)
	if !ok {
		return
	}
	ctx := r.Context()
	d := &deskConn{hub: h, account: account, sessionID: sessionID, connID: store.NewID("dc")}
	resume := map[string]int64{}
	for id, seq := range hello.Resume {
		cv, err := h.store.Conversation(ctx, id)
		if err == nil && seq >= 0 && h.store.AgentCanSee(ctx, cv, account.ID) {
			resume[id] = seq
		}
	}
	sites, err1 := h.store.AccountSites(ctx, account.ID)
	groups, err2 := h.store.AccountGroupIDs(ctx, account.ID)
	presence, offers, err3 := h.router.DeskState(ctx, account.ID)
	if err1 != nil || err2 != nil || err3 != nil {
		h.log.Error("desk hello", slog.Any("error", err1), slog.Any("groups_error", err2), slog.Any("state_error", err3))
		closeEarly(ws, DisconnectShutdown, "try again")
		return
	}
	// The connection owns resume from here on (its writer updates it): keep the ids to catch up apart.
	catchUp := slices.Collect(maps.Keys(resume))
	c := h.newConn(ws, "desk", resume)
	c.h = d
	subjects := []string{notify.AccountSubject(account.ID)}
	for _, s := range sites {
		subjects = append(subjects, notify.SiteSubject(s))
	}
	for _, g := range groups {
		subjects = append(subjects, notify.GroupSubject(g))
	}
	for _, s := range subjects {
		if err := c.subscribe(s); err != nil {
			c.close(DisconnectShutdown, "bus unavailable")
			return
		}
	}
	if err := h.store.TouchDeskConnection(ctx, d.connID, account.ID, h.nodeID, h.now()); err != nil {
		h.log.Error("desk presence", slog.Any("error", err))
	}
	c.send(outFrame{V: Version, Type: "ack", ID: env.ID, Data: deskWelcome{Account: accountView{
		ID: account.ID, Email: account.Email, Name: account.Name, Role: account.Role, Supervisor: account.Supervisor,
		CanEscalate: account.CanEscalate},
		Presence: presence, Offers: offers, Calls: h.calls.AgentCalls(ctx, account.ID),
		Invites: h.calls.AgentInvites(ctx, account.ID)}})
	for _, id := range catchUp {
		c.enqueue(item{catch: id})
	}
	// Serve from a new goroutine and let the handler's return: its stack grew during the database work of the
	// hello, and an idle connection should not keep it.
	go c.run()
}

func (d *deskConn) agent() chat.Agent { return chat.Agent{ID: d.account.ID, Name: d.account.Name} }

func (d *deskConn) request(ctx context.Context, c *conn, env envelope, received time.Time) (any, error) {
	switch env.Type {
	case "message.send":
		return d.hub.sendMessage(c, env, received, "", "", func(m sendData) (store.Appended, error) {
			return d.hub.chat.AgentSend(ctx, d.agent(), m.ConversationID, m.ClientMsgID, m.Body, received)
		})
	case "typing":
		var m typingData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		return nil, chatError(d.hub.chat.AgentTyping(ctx, d.agent(), m.ConversationID, m.Typing))
	case "read":
		var m readData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		return struct{}{}, chatError(d.hub.chat.AgentRead(ctx, d.agent(), m.ConversationID, m.Seq))
	case "conversation.end":
		var m endData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		res, err := d.hub.chat.End(ctx, d.agent(), m.ConversationID)
		if err != nil {
			return nil, chatError(err)
		}
		return convAck{ConversationID: res.Conversation.ID, Seq: res.Conversation.LastSeq}, nil
	case "presence.set":
		var m presenceData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		if _, err := d.hub.router.SetPresence(ctx, d.account.ID, m.Channel, m.Status); err != nil {
			return nil, chatError(err)
		}
		p, _, err := d.hub.router.DeskState(ctx, d.account.ID)
		if err != nil {
			return nil, err
		}
		return struct {
			Presence notify.PresenceView `json:"presence"`
		}{p}, nil
	case "offer.accept":
		var m offerData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		conv, err := d.hub.router.Accept(ctx, d.account.ID, m.OfferID)
		if err != nil {
			return nil, chatError(err)
		}
		return convAck{ConversationID: conv}, nil
	case "offer.decline":
		var m offerData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		return struct{}{}, chatError(d.hub.router.Decline(ctx, d.account.ID, m.OfferID))
	case "call.request", "call.invite.answer":
		return nil, perr(CodeForbidden, "only a visitor can do this")
	case "call.invite":
		var m inviteData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		inv, err := d.hub.calls.Invite(ctx, call.Party{AgentID: d.account.ID, ConnID: d.connID}, m.ConversationID)
		if err != nil {
			return nil, callError(err)
		}
		return inviteAck{Invite: inv}, nil
	case "conversation.claim":
		var m endData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		if err := d.hub.router.Claim(ctx, d.account.ID, m.ConversationID); err != nil {
			return nil, chatError(err)
		}
		return convAck{ConversationID: m.ConversationID}, nil
	case "conversation.transfer":
		var m transferReq
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		if err := d.hub.router.Transfer(ctx, d.account.ID, d.account.Name, m.ConversationID, m.AgentID); err != nil {
			switch {
			case errors.Is(err, routing.ErrConflict):
				return nil, perr(CodeConflict, "the conversation is closed, or a video call or an invitation to one is under way in it")
			case errors.Is(err, routing.ErrNotColleague):
				return nil, perr(CodeBadRequest, "agent_id is not another agent of this conversation's group")
			case errors.Is(err, routing.ErrUnavailable):
				return nil, perr(CodeAtCapacity, "that colleague is not available for chat")
			case errors.Is(err, routing.ErrAtCapacity):
				return nil, perr(CodeAtCapacity, "that colleague has no free slot")
			}
			return nil, chatError(err)
		}
		return convAck{ConversationID: m.ConversationID}, nil
	case "note.add":
		var m noteReq
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		if len(m.ClientNoteID) > 64 {
			return nil, perr(CodeBadRequest, "client_note_id is longer than 64 characters")
		}
		if err := d.hub.limitMessage(c, "", "", received); err != nil {
			return nil, err
		}
		n, dup, err := d.hub.chat.AddNote(ctx, d.agent(), m.ConversationID, m.ClientNoteID, m.Body)
		if err != nil {
			return nil, chatError(err)
		}
		return struct {
			Note      notify.NoteView `json:"note"`
			Duplicate bool            `json:"duplicate"`
		}{notify.ViewNote(n), dup}, nil
	case "colleagues":
		var m endData
		if err := decode(env, &m); err != nil {
			return nil, err
		}
		cs, err := d.hub.router.Colleagues(ctx, d.account.ID, m.ConversationID)
		if err != nil {
			if errors.Is(err, routing.ErrConflict) {
				return nil, perr(CodeConversationClosed, "conversation is closed")
			}
			return nil, chatError(err)
		}
		out := make([]colleagueView, len(cs))
		for i, c := range cs {
			out[i] = colleagueView{AgentID: c.ID, Name: c.Name, Chat: c.Chat, InCall: c.InCall, FreeSlots: c.FreeSlots}
		}
		return struct {
			Colleagues []colleagueView `json:"colleagues"`
		}{out}, nil
	}
	if ack, ok, err := d.hub.callRequest(ctx, call.Party{AgentID: d.account.ID, ConnID: d.connID}, env); ok {
		return ack, err
	}
	return nil, perr(CodeUnknownType, "unknown frame type "+quote(env.Type))
}

func (d *deskConn) visible(n *notify.Notice) bool {
	switch n.Kind {
	case notify.KindCall, notify.KindCallCandidate, notify.KindCallMedia, notify.KindCallInvite:
		// Calls come on the account's own subject only.
		return true
	case notify.KindConversation, notify.KindRevoke, notify.KindOffer, notify.KindOfferEnded, notify.KindPresence:
		// Summaries let every desk of the group drop a conversation someone else took. Offers and revocations
		// come on the account's own subject, presence on its groups'.
		return true
	case notify.KindTyping:
		return n.Typing != nil && n.Typing.Author == store.AuthorVisitor && n.AgentID == d.account.ID
	case notify.KindRead:
		return n.Read != nil && n.Read.Reader == store.ReaderVisitor && n.AgentID != "" && n.AgentID == d.account.ID
	case notify.KindEvent, notify.KindNote:
		return n.AgentID == "" || n.AgentID == d.account.ID
	}
	return false
}

// tick keeps the agent's desk alive and re-checks the session, in case a revocation notice was missed.
func (d *deskConn) tick(ctx context.Context, c *conn) {
	if d.revoked(ctx) {
		go c.close(DisconnectSessionEnded, "session ended")
		return
	}
	if err := d.hub.store.TouchDeskConnection(ctx, d.connID, d.account.ID, d.hub.nodeID, d.hub.now()); err != nil {
		d.hub.log.Warn("desk presence", slog.Any("error", err))
	}
}

func (d *deskConn) revoked(ctx context.Context) bool {
	_, _, err := d.hub.store.SessionAccount(ctx, d.sessionID, d.hub.now())
	return isGone(err)
}

func (d *deskConn) queued(*notify.QueueView) {}

func (d *deskConn) closed() {
	d.hub.calls.Disconnected(d.connID)
	if err := d.hub.store.CloseDeskConnection(context.Background(), d.connID, d.hub.now()); err != nil {
		d.hub.log.Warn("desk presence", slog.Any("error", err))
	}
}
